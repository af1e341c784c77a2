"""Kumo's shared core: configuration, database, RPC plumbing and the state model."""
import warnings

# oslo.messaging imports oslo.service, which imports eventlet (never used here: every
# Kumo service runs on threads) and warns about it on every command.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
