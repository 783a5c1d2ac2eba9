"""ImageNet (ILSVRC) results of AlexNet and VGG, as the papers report them, with their split and source.

Figures are top-5 classification error in percent: the fraction of images whose true class is not
among the network's five highest scores. ``split`` says which images: "test" is the challenge's
held-out test set (scored by the organisers), "val" its public 50,000-image validation set.
Sources:

- Krizhevsky, Sutskever & Hinton 2012, "ImageNet classification with deep convolutional neural
  networks" (NeurIPS), section 6 and Table 2 (ILSVRC-2012);
- Simonyan & Zisserman 2015, "Very deep convolutional networks for large-scale image recognition"
  (ICLR), Tables 3 and 7 (ILSVRC-2014).
"""

from __future__ import annotations

from dataclasses import dataclass

from coursekit.tables import format_table

__all__ = ["Result", "ILSVRC_RESULTS", "results_table"]


@dataclass(frozen=True)
class Result:
    """One reported figure: ``top5`` error in percent on ``split`` of ILSVRC-``year``, from ``source``."""

    entry: str
    year: int
    split: str  # "test" or "val"
    top5: float
    source: str


ILSVRC_RESULTS: tuple[Result, ...] = (
    Result("runner-up of ILSVRC-2012 (SIFT + Fisher vectors, no convnet)", 2012, "test", 26.2,
           "Krizhevsky et al. 2012, Table 2"),
    Result("AlexNet, 1 CNN", 2012, "val", 18.2, "Krizhevsky et al. 2012, Table 2"),
    Result("AlexNet, winning entry (7 CNNs, 2 pre-trained on ImageNet Fall 2011)", 2012, "test", 15.3,
           "Krizhevsky et al. 2012, Table 2"),
    Result("VGG, ILSVRC-2014 submission (7 nets)", 2014, "test", 7.3, "Simonyan & Zisserman 2015, Table 7"),
    Result("VGG, best single net (multi-crop & dense)", 2014, "test", 7.0, "Simonyan & Zisserman 2015, Table 7"),
    Result("VGG, post-competition (2 nets: D and E)", 2014, "test", 6.8, "Simonyan & Zisserman 2015, Table 7"),
    Result("GoogLeNet, ILSVRC-2014 winner (7 nets), for comparison", 2014, "test", 6.7,
           "Simonyan & Zisserman 2015, Table 7"),
)


def results_table(results: tuple[Result, ...] = ILSVRC_RESULTS) -> str:
    """The results as a plain-text table: entry, year, split, top-5 error (%), source."""
    return format_table(["entry", "ILSVRC", "split", "top-5 err %", "source"],
                        [(r.entry, str(r.year), r.split, f"{r.top5:.1f}", r.source) for r in results])
