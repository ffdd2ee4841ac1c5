"""AWS Lambda entry points: the Lex V2 code hooks (fulfillment.py)."""
