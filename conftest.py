# Import the real `gateway` package before collection: pytest's importlib mode names
# gateway/tests/test_*.py "gateway.tests.test_*" and would otherwise register the
# gateway/ directory itself as a stand-in "gateway" package, shadowing the real one.
import gateway  # noqa: F401

pytest_plugins = ["im_cli.testing"]
