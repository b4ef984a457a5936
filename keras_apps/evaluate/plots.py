"""The evaluation's pictures, as PNG files (matplotlib, no display needed)."""

import numpy as np

from keras_apps import files


def pyplot_for_files():
    """Matplotlib's `pyplot`, drawing into files (no display), its text read as written: titles and labels hold a
    user's words (a sentence, a file name), where `$5 or $6` was read as mathematics, and `$x^{` was a traceback."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["text.parse_math"] = False
    from matplotlib import pyplot

    return pyplot


def save(figure, path):
    """Lays `figure` out and writes it to `path` as a PNG, atomically; closes it."""
    pyplot = pyplot_for_files()
    figure.tight_layout()
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=100)
    pyplot.close(figure)
    return path


def plot_confusion_matrix(confusion, class_names, path):
    """Counts of true (rows) against predicted (columns) classes, shaded by each row's share."""
    pyplot = pyplot_for_files()
    confusion = np.asarray(confusion)
    shares = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    size = max(3.5, 0.55 * len(class_names) + 1.5)
    figure, axis = pyplot.subplots(figsize=(size + 1, size))
    image = axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(class_names))
    axis.set_xticks(ticks, class_names, rotation=45 if len(class_names) > 3 else 0)
    axis.set_yticks(ticks, class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    for (row, column), count in np.ndenumerate(confusion):
        axis.text(column, row, f"{count:,}", ha="center", va="center", fontsize=8,
                  color="white" if shares[row, column] > 0.5 else "black")
    figure.colorbar(image, ax=axis, label="share of the true class")
    axis.set_title("confusion matrix")
    return save(figure, path)


def plot_reliability(reliability, ece, path):
    """Accuracy against confidence per bin (bars) beside the diagonal of perfect calibration."""
    pyplot = pyplot_for_files()
    edges = np.asarray(reliability["bin_edges"])
    accuracy = np.array([np.nan if value is None else value for value in reliability["accuracy"]], float)
    counts = np.asarray(reliability["count"])
    figure, (top, bottom) = pyplot.subplots(2, 1, figsize=(4.5, 5), height_ratios=(3, 1), sharex=True)
    top.bar(edges[:-1], np.nan_to_num(accuracy), width=np.diff(edges), align="edge", edgecolor="black",
            label="accuracy in the bin")
    top.plot([0, 1], [0, 1], linestyle="--", color="gray", label="perfect calibration")
    top.set_ylabel("accuracy")
    top.set_title(f"reliability (ECE {ece:.4f})")
    top.legend(loc="upper left")
    bottom.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="gray")
    bottom.set_yscale("log")
    bottom.set_xlabel("confidence (probability of the predicted class)")
    bottom.set_ylabel("examples")
    return save(figure, path)


def plot_image_grid(images, captions, path, columns=4):
    """Grayscale images in a grid, each under its caption (for the most confident mistakes)."""
    pyplot = pyplot_for_files()
    rows = max(1, -(-len(images) // columns))
    figure, axes = pyplot.subplots(rows, columns, figsize=(2.2 * columns, 2.5 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, image, caption in zip(axes.flat, images, captions):
        axis.imshow(np.squeeze(image), cmap="gray")
        axis.set_title(caption, fontsize=8)
    return save(figure, path)


def plot_frontier(points, path):
    """The reward–KL frontier (the DPO paper's Figure 2): each method's judge P(positive) and reward against its
    KL to the reference model, one marker per point, labelled by its method."""
    pyplot = pyplot_for_files()
    figure, axes = pyplot.subplots(1, 2, figsize=(10, 4))
    markers = {"SFT": "s", "best-of-N": "^", "PPO": "o", "DPO": "D"}
    for axis, figure_name, label in ((axes[0], "judge", "judge P(positive)"), (axes[1], "reward", "reward")):
        for method in dict.fromkeys(point["method"] for point in points):
            chosen = [point for point in points if point["method"] == method]
            axis.scatter([point["kl"] for point in chosen], [point[figure_name] for point in chosen],
                         marker=markers.get(method, "x"), label=method, s=50)
        axis.set_xlabel("KL(π ‖ π_ref), nats")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    axes[0].legend(loc="lower right")
    axes[0].set_title("the judge, which no stage trained against")
    axes[1].set_title("the reward the policies were tuned against")
    return save(figure, path)
