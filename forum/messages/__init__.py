"""Private messages: conversations between two or more members, blocks, and the moderation of
messages (scored by the worker as posts are; reported and reviewed through the review queue)."""
