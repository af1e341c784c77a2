"""Server actions beyond HTTP: what each POST /servers/{id}/action (and the events and
security group changes that act on a server) checks and starts.

resources/server_actions.py parses the request and dispatches here. `lifecycle` is what
every action shares (lock and state checks, the task_state claim, the instance action
record, the cast to the compute agent); the other modules are the actions themselves.
"""
