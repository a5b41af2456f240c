"""E-mail: addresses and headers that cannot be abused, the message, its transport, the mail
jobs (one message each, sent by the scheduler with retries) and what copnet mails about."""
