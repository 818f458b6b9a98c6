"""The weekly review: one ISO week laid out as the meeting runs, frozen into a signed file, exported as
HTML and PDF, and summarised to Slack.

- `weeks`: ISO weeks (`2026-W48`, Monday 00:00 to Monday 00:00 UTC);
- `review`: the review's figures, from the modules that compute them for the other pages;
- `actions`: the action items, carried from week to week until closed;
- `frozen`: signed frozen weeks (read, verify), `freeze`: making one;
- `document`: the self-contained HTML report, `pdf`: printed from it with Chromium;
- `slack`: the summary as Block Kit, posted with retries;
- `cli`: `python -m app.report freeze | weekly | verify`.
"""
