"""The web chat page: bot/web/index.html with the rasa-webchat widget, served by bot/web/serve.py."""
