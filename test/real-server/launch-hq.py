"""Serve vantage6 HQ's app as its image's wsgi.py makes it (run_hq), by Flask-SocketIO's
own server on 127.0.0.1:PORT instead of uwsgi: no Docker, no Kubernetes, no RabbitMQ.
Its image runs `python -m vantage6.hq.init_db CONFIG` first, in a process of its own.
Usage: launch-hq.py CONFIG PORT"""

import sys

from vantage6.hq import run_hq

config, port = sys.argv[1], int(sys.argv[2])
hq = run_hq(config, system_folders=False)
hq.socketio.run(hq.app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True)
