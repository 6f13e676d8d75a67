"""`dialhub`, the command line of dialhub's internal API.

A client only: it speaks HTTP to the API (`make serve`'s, or a deployed stack's, signed with SigV4) and never
imports the layer's library, so `pip install` of the repository gives it without the Lambda code.
"""
