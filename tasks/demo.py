"""Try every model in the browser: a local page over the exports, a tab per task.

    python -m tasks.demo                          # http://127.0.0.1:7860, the latest export of each task
    python -m tasks.demo --port 8080 --exports saved_models

The page serves the same SavedModels a server would load (`saved_models/<task>/<latest version>`), each loaded
once at start-up and run once before the page opens, so the first answer is as quick as the next. A task with
no export gets a tab naming the command that makes one.
"""

import ipaddress
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

from keras_apps import cli
from keras_apps.errors import UserError
from keras_apps.export.versions import versions
from keras_apps.tensorflow_start import import_tensorflow


def main(argv=None):
    from keras_apps import timing

    timing.start_command(from_the_shell=argv is None)
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    exports = Path(args.exports)
    if not exports.is_dir():
        raise UserError(f"--exports {exports} is not a folder; train a model first (e.g. python -m tasks.imdb) "
                        "or point --exports at the folder holding <task>/<version>")
    if (exports / "export.json").is_file() or versions(exports):  # one version, or one task's folder: no tab's
        above = exports.parent.parent if (exports / "export.json").is_file() else exports.parent
        raise UserError(f"--exports {exports} holds one task's exports; give the folder holding each task's, "
                        f"<task>/<version> (e.g. {above})")
    if not ipaddress.ip_address(_check_port_is_free(args.host, args.port)[0]).is_loopback:
        print(f"note: --host {args.host} opens the page to the network: anyone who can reach port {args.port} can use "
              "it (it has no login)", flush=True)
    server_name = f"[{args.host}]" if ":" in args.host else args.host  # an IPv6 address, as a URL writes it
    import_tensorflow()
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop ends the page as Ctrl+C does
    try:
        with tempfile.TemporaryDirectory(prefix="keras-apps-demo-") as work_dir:  # the pictures the page draws
            page = build(exports, work_dir)
            print(f"Ready {timing.now() - timing.command_start_time():.1f} s after the command started: "
                  f"http://{server_name}:{args.port} (Ctrl+C stops)", flush=True)
            # Gradio serves until Ctrl+C (or SIGTERM), then closes its server and returns. Its error messages are
            # the handlers' own (`page.answering`); show_error would send any other exception's text to the page.
            page.launch(server_name=server_name, server_port=args.port, quiet=True, show_error=False,
                        ssr_mode=False, max_file_size="10mb")
    except KeyboardInterrupt:  # before the page was up
        print("stopped", file=sys.stderr)
        return 130
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def build(exports, work_dir):
    """The page over the latest export of each task under `exports`, each loaded and warmed up once."""
    from keras_apps.demo import answers, catalog
    from keras_apps.demo.page import build_page

    loaders = {
        "mnist": lambda path: answers.DigitAnswers(path, work_dir),
        "imdb": answers.ReviewAnswers,
        "translate": lambda path: answers.TranslationAnswers(path, work_dir),
        "gpt": answers.GenerationAnswers,
        "speech": answers.SpokenDigitAnswers,
    }
    served, loaded = catalog.find(exports), {}
    for index, entry in enumerate(served):
        if entry.path is None:
            if entry.problem or not entry.tab.optional:  # an optional tab is quiet only when its folder is absent
                print(f"{entry.tab.title}: {entry.problem or 'no export'}; {entry.tab.command} makes one", flush=True)
            continue
        start = time.perf_counter()
        try:
            loaded[entry.tab.task] = loaders[entry.tab.task](entry.path)
            loaded[entry.tab.task].warm_up()
        except Exception as exc:  # noqa: BLE001 - one export that cannot be served must not take the page down
            problem = exc if isinstance(exc, UserError) else (f"it does not answer as a {entry.tab.task} export does "
                                                              f"({type(exc).__name__}: {str(exc)[:100]}...)")
            served[index] = catalog.Served(entry.tab, problem=f"{entry.path} cannot be served: {problem}")
            loaded.pop(entry.tab.task, None)
            print(f"{entry.tab.title}: {served[index].problem}", flush=True)
            continue
        print(f"{entry.tab.title}: {entry.path} loaded in {time.perf_counter() - start:.1f} s", flush=True)
    return build_page(served, loaded)


def _check_port_is_free(host, port):
    """A one-line error now, rather than after the exports have loaded, when `port` is taken; else the address
    `host` stands for. Bound as the server binds (address reuse, the address family of `host`: IPv6 for `::1`): the
    closed connections of a demo just stopped (TIME-WAIT, a minute) leave it free."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:  # socket.gaierror too: a host name that does not resolve
        raise UserError(f"cannot serve on {host}:{port} ({exc.strerror}); choose another --port or --host") from None
    return address


def build_parser():
    parser = cli.ArgumentParser(
        prog="python -m tasks.demo",
        description="A local web page over the exports: draw a digit, type a review, translate a sentence, "
        "continue a prompt, and see the served model's answer and why.",
    )
    parser.add_argument("--exports", type=cli.path, default="saved_models",
                        help="the folder holding each task's versioned exports, <task>/<version> (default: "
                        "saved_models)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to serve on; 0.0.0.0 opens the page to other machines (default: 127.0.0.1)")
    parser.add_argument("--port", type=cli.port, default=7860, help="the port to serve on (default: 7860)")
    return parser


if __name__ == "__main__":
    cli.exit_process(cli.run(main))
