"""Request schemas of POST /servers/{id}/action, per action and microversion window."""

_null = {'type': 'null'}

reboot = {
    'type': 'object',
    'properties': {'type': {'type': 'string', 'enum': ['HARD', 'Hard', 'hard', 'SOFT',
                                                       'Soft', 'soft']}},
    'required': ['type'],
    'additionalProperties': False,
}

lock_2_73 = {
    'oneOf': [
        _null,
        {'type': 'object',
         'properties': {'locked_reason': {'type': 'string', 'minLength': 1,
                                          'maxLength': 255}},
         'additionalProperties': False},
    ],
}

NULL_BODY = [((2, 1), (2, 100), _null)]
REBOOT = [((2, 1), (2, 100), reboot)]
LOCK = [((2, 1), (2, 72), _null), ((2, 73), (2, 100), lock_2_73)]
