"""dialhub: one integration layer between contact lists and AI outbound voice-bot vendors."""
