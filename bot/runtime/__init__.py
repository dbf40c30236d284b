"""The running app: settings, the Slack clients and their retry policy, `Deps`, the Bolt app
factory, the HTTP and Socket Mode servers, the clock and its explicit list of jobs, and the
command line (`cli`, one module per group of commands).

May import: handlers, the domain, views, storage. Only the `demo` command reaches into the
devkit, when asked for.
"""
