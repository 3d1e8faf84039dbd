"""The WhatsApp gateway. `app.factory.create_app` builds it; `app.services` hold its logic."""
