#!/usr/bin/env bash
# Entry point of the Rasa server image (deploy/Dockerfile.rasa).
#
#   (no argument) or `serve`   the production server, configured by the environment only. It is the
#                              command scripts/assistant.py's rasa_command() builds for the scale-out
#                              test (scripts/cluster.py):
#         rasa run --model models/current.tar.gz --port 5005 --endpoints deploy/endpoints.yml
#                  --credentials credentials.yml [--cors ORIGIN ...] [--enable-api --auth-token TOKEN]
#   anything else              handed to `rasa`, as the official image's entry point does
#                              (`docker run IMAGE --version`, `... shell`, `... data validate`).
#
# An exec-form CMD cannot expand ${RASA_AUTH_TOKEN} or split ${CORS_ORIGINS}: this script does.
#   RASA_AUTH_TOKEN   the HTTP API (--enable-api) is on only with it: then every API call needs
#                     ?token=...; without it (and without RASA_JWT_SECRET) only the channels answer.
#   RASA_JWT_SECRET   optional, instead of a token, as rasa_command(jwt_secret=...): the API then needs
#                     a JWT signed with it (HS256).
#   CORS_ORIGINS      comma-separated origins allowed to call Rasa from a browser, e.g.
#                     "https://chat.example.gov.cn"; bot/web/socketio_channel.py reads the same
#                     variable for socket.io. Unset: no --cors (browsers on other origins refused).
# Everything else (ACTION_SERVER_URL, TRACKER_STORE_URL, REDIS_URL ...) is read by Rasa from
# deploy/endpoints.yml and by our code; see docs/deploy.md.
set -euo pipefail

if [[ $# -gt 0 && "$1" != "serve" ]]; then
    exec rasa "$@"
fi

APP=/app
command=(rasa run
    --model "$APP/models/current.tar.gz"
    --port 5005
    --endpoints "$APP/deploy/endpoints.yml"
    --credentials "$APP/credentials.yml")

origins=()
IFS=',' read -r -a listed <<< "${CORS_ORIGINS:-}"
for origin in "${listed[@]}"; do
    origin="${origin//[[:space:]]/}"
    if [[ -n "$origin" ]]; then
        origins+=("$origin")
    fi
done
if [[ ${#origins[@]} -gt 0 ]]; then
    if [[ " ${origins[*]} " == *" * "* ]]; then
        echo "rasa-entrypoint: warning: CORS_ORIGINS allows every origin (*); list the chat page's origin instead" >&2
    fi
    command+=(--cors "${origins[@]}")
fi

if [[ -n "${RASA_AUTH_TOKEN:-}" ]]; then
    command+=(--enable-api --auth-token "$RASA_AUTH_TOKEN")
    api="on (token)"
elif [[ -n "${RASA_JWT_SECRET:-}" ]]; then
    command+=(--enable-api --jwt-secret "$RASA_JWT_SECRET")
    api="on (JWT)"
else
    api="off (set RASA_AUTH_TOKEN to enable it)"
fi

# The token is not printed.
echo "rasa-entrypoint: rasa run on port 5005, CORS: ${origins[*]:-none}, HTTP API: $api" >&2
exec "${command[@]}"
