"""Start a vantage6 4.x server as its Docker image's wsgi.py does (run_server),
served by the release's own development server on 127.0.0.1:PORT: no Docker,
no RabbitMQ. Usage: launch-server.py CONFIG PORT"""

import sys

from vantage6.server import run_dev_server, run_server

config, port = sys.argv[1], int(sys.argv[2])
server_app = run_server(config, system_folders=False)
run_dev_server(server_app, host="127.0.0.1", port=port)
