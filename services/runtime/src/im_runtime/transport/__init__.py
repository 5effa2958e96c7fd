"""Transport, the top layer: how messages reach the pipeline. Events through pull
requests on a durable consumer (`puller`, `pull_loop`); commands and queries through
request subscriptions on one stack (`requests`)."""
