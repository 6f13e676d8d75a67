from dialhub_cli.app import main

main()
