pytest_plugins = ["im_cli.testing"]
