"""The core every domain builds on; it imports no domain."""
