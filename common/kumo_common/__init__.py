"""Kumo's shared core: configuration, database, RPC plumbing and the state model."""
import os
import warnings

# oslo.messaging imports oslo.service, which imports eventlet (never used here: every
# Kumo service runs on threads) and warns about it on every command.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
# Nor its green DNS resolver, which it loads (dnspython, twice over: some 200 modules,
# 7 MB of every process) unless told not to; nothing here is monkey-patched, so name
# lookups go through the standard library either way. Set before anything imports
# eventlet (it reads the variable at import), and left to the environment if set.
os.environ.setdefault('EVENTLET_NO_GREENDNS', 'yes')
