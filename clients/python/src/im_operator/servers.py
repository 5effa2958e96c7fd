"""The NATS URL as given: one server, or a cluster's servers separated by commas."""


def servers(nats_url: str) -> list[str]:
    return [u.strip() for u in nats_url.split(",") if u.strip()]
