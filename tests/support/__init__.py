"""What the tests share and are not tests: doubles, factories, places, harnesses.

- `botapi/`: the local Telegram Bot API double (the server) and the people who use it.
- `harness`: the real `somos` command as a subprocess (`somos serve`, the CLI).
- `databases`: a fresh SQLite or PostgreSQL database per test.
- `staff`: staff accounts; `api`: signing in and reports for the API and page tests.
- `places`: the municipalities and departments the tests name.
- `totp`, `media`, `walk`, `web_client`: authenticator codes, real media files, walking
  the conversation, a browserless client for the pages.

A test module imports from here, never from another test module; fixtures live in the
conftest.py beside the tests that use them.
"""
