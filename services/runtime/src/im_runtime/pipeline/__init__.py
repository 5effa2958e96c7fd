"""The pipeline, the middle layer: what happens to a message once it is in hand.
Events: decode -> screen -> dispatch -> commit -> ack (`events`, with `screen`,
`dispatch`, `decode`; `pipelined` overlaps a batch's handlers with the commit before).
Commands and queries: decode -> handle -> commit -> reply (`endpoints`). Conflicts are
retried the same way on both sides (`retry`)."""
