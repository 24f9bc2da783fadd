"""Peers benchmark: thumbgen through its queue against vipsthumbnail and sharp, as users run them.

The photos of ``../shared/bench/make_corpus.sh`` in two corpora: as shipped
(33 of 38 progressive, as the web serves them) and losslessly rewritten as
baseline JPEGs (as cameras write them), each photo three times (114 files).
Every tool gets the same job: fit 256x256, JPEG quality 85, two processes:

- thumbgen: ``thumbgen add DIR --wait -w 2`` on a fresh queue file;
- vipsthumbnail: ``peers.sh vips-batch`` (the files split between two processes);
- sharp: ``peers.sh sharp`` (one node process, two files in flight).

The tools alternate within each round; 3 rounds, medians. Each command runs
under ``/usr/bin/time`` for its peak memory (the largest process: one worker).
Quality: each tool's mean absolute error per channel against a reference
made from the full decode (sRGB, upright), Lanczos to the tool's output size.
Also thumbgen with three sizes (``-s 128 -s 256 -s 1024``) against one.

``THUMBGEN_BENCH_BEFORE=/path/to/thumbgen`` adds another install of thumbgen
(an earlier commit, say) as one more tool in the same alternation: a change's
before and after, each against the peers, in one run on one machine.

The peers are not installed by the project: ``bash ../shared/bench/install_peers.sh``
(root, after ``apt-get update``). Without them this benchmark is skipped.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_common import Config, Reporter, Stats, Table, clean_env, fmt_mib, thumbgen_argv
from PIL import Image, ImageChops, ImageCms, ImageOps, ImageStat

SHARED = Path(
    os.environ.get("THUMBGEN_BENCH_SHARED", Path(__file__).resolve().parents[3] / "shared")
)
SHARP_DIR = Path(
    os.environ.get("SHARP_DIR", Path(os.environ.get("TMPDIR", "/tmp")) / "thumb-peers" / "sharp")
)
PEERS_SH = SHARED / "bench" / "peers.sh"
#: Another thumbgen to measure in the same alternation (read at import: run.py
#: then drops every THUMBGEN_* variable from its environment).
BEFORE = os.environ.get("THUMBGEN_BENCH_BEFORE", "")
COPIES = 3
THREE_SIZES = ("128", "256", "1024")
GOALS = {"baseline": 1.3, "progressive": 1.8}  # x faster than each peer (issue 10)
MEMORY_GOALS = {"baseline": 40 * 2**20, "progressive": 100 * 2**20}

#: A command builder: (source folder, output folder, scratch folder) -> argv.
Tool = Callable[[Path, Path, Path], list[str]]


def missing() -> list[str]:
    """What is missing to run this benchmark (empty: all there)."""
    gaps = []
    if not PEERS_SH.is_file():
        gaps.append(f"{PEERS_SH} (the shared bench scripts)")
    if not shutil.which("vipsthumbnail"):
        gaps.append("vipsthumbnail")
    if not (shutil.which("node") and (SHARP_DIR / "node_modules" / "sharp").is_dir()):
        gaps.append(f"sharp in {SHARP_DIR}")
    if not Path("/usr/bin/time").is_file():
        gaps.append("/usr/bin/time (Debian package time)")
    if not shutil.which("jpegtran"):
        gaps.append("jpegtran (for the baseline corpus)")
    return gaps


def make_corpora(folder: Path, copies: int) -> dict[str, Path]:
    """The progressive and baseline corpora, each photo ``copies`` times."""
    corpora = {}
    for name, env in (("baseline", {"BASELINE": "1"}), ("progressive", {})):
        one = folder / f"{name}-one"
        subprocess.run(
            ["bash", str(SHARED / "bench" / "make_corpus.sh"), str(one)],
            env={**os.environ, **env},
            capture_output=True,
            check=True,
        )
        many = folder / name
        many.mkdir()
        for photo in sorted(one.iterdir()):
            for copy in range(copies):
                os.link(photo, many / f"{photo.stem}-{copy}{photo.suffix}")
        corpora[name] = many
    return corpora


def tools(queue_dir: Path) -> dict[str, Tool]:
    """The commands compared, by name; each writes ``<stem>.jpg`` files into ``out``."""
    counter = iter(range(1_000_000))

    def thumbgen(sizes: tuple[str, ...], command: list[str] | None = None) -> Tool:
        def argv(src: Path, out: Path, _: Path) -> list[str]:
            queue = queue_dir / f"q{next(counter)}.db"  # a fresh queue file every run
            size_args = [a for s in sizes for a in ("-s", s)]
            name = "{stem}.{ext}" if len(sizes) == 1 else "{size}/{stem}.{ext}"
            return [
                *(command or thumbgen_argv()),
                "--queue",
                str(queue),
                "add",
                str(src),
                *size_args,
                "-q",
                "85",
                "--name",
                name,
                "-o",
                str(out),
                "--wait",
                "-w",
                "2",
                "--quiet",
            ]

        return argv

    def peer(which: str) -> Tool:
        return lambda src, out, _: ["bash", str(PEERS_SH), str(src), str(out), which]

    found = {
        "thumbgen add --wait -w 2": thumbgen(("256",)),
        "vipsthumbnail, 2 processes": peer("vips-batch"),
        "sharp, 2 in flight": peer("sharp"),
        "thumbgen, 3 sizes": thumbgen(THREE_SIZES),
    }
    if BEFORE:
        found[f"thumbgen before ({BEFORE})"] = thumbgen(("256",), [BEFORE])
    return found


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS bytes (largest process) of ``argv``'s tree.

    CPU is user + system time of the whole tree (every process is waited for
    by its parent, so ``/usr/bin/time`` sees it all): on a shared machine the
    wall time also measures how much of the CPU the other users left, and
    a tool with more threads gets a larger share of it; CPU time does not.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M %U %S", "-o", rss.name, *argv],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
        peak, user, system = rss.read().split()[-3:]
        return elapsed, float(user) + float(system), int(peak) * 1024


def run(config: Config, report: Reporter) -> None:
    """Both corpora, every tool alternating, ``rounds`` rounds; then quality and memory."""
    gaps = missing()
    if gaps:
        report.text(
            "\npeers: skipped, missing: " + ", ".join(gaps) + "\n  install them with "
            "`apt-get update && bash ../shared/bench/install_peers.sh` (as root)"
        )
        return
    rounds = config.runs(3, 1)
    with tempfile.TemporaryDirectory(prefix="thumbgen-bench-peers-", dir=config.tmp) as tmp_s:
        tmp = Path(tmp_s)
        corpora = make_corpora(tmp, config.size(COPIES, 1))
        (tmp / "queues").mkdir()
        found = tools(tmp / "queues")
        env = clean_env()
        env["SHARP_DIR"] = str(SHARP_DIR)
        times: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        peaks: dict[tuple[str, str], int] = {}
        keep: dict[tuple[str, str], Path] = {}
        for r in range(rounds):
            for corpus, src in corpora.items():
                # Alternate: each round starts with another tool.
                names = list(found)
                names = names[r % len(names) :] + names[: r % len(names)]
                for name in names:
                    out = tmp / f"out-{corpus}-{r}-{names.index(name)}"
                    elapsed, used, peak = run_measured(found[name](src, out, tmp), env)
                    _check(out, src, name)
                    times.setdefault((corpus, name), []).append(elapsed)
                    cpu.setdefault((corpus, name), []).append(used)
                    peaks[(corpus, name)] = max(peaks.get((corpus, name), 0), peak)
                    if r == 0:
                        keep[(corpus, name)] = out
                    else:
                        shutil.rmtree(out)
        errors = quality(corpora, keep, found)
        _report(report, corpora, found, times, cpu, peaks, errors, rounds)
        report.table(memory_by_photo(corpora["progressive"], tmp, env))


def memory_by_photo(corpus: Path, tmp: Path, env: dict[str, str]) -> Table:
    """Peak RSS of one worker for each of the largest progressive photos, alone in a batch.

    The corpus run reports the largest process over all photos; this shows
    what sets it. libjpeg holds a progressive file's coefficients for the
    whole image (128 bytes per 8x8 block and component), so the peak follows
    pixels and chroma subsampling, not the file size.
    """
    table = Table(
        "peers: thumbgen's peak RSS per photo (the progressive corpus, 16 MP and more, "
        "`add --wait -w 1`, one photo per batch)",
        ["photo", "pixels", "sampling", "coefficients", "peak RSS"],
    )
    photos = []
    for path in sorted(corpus.iterdir()):
        if not path.stem.endswith("-0"):
            continue
        with Image.open(path) as im:
            if im.width * im.height >= 16_000_000:
                photos.append((path, im.size, _sampling(im), bool(im.info.get("progressive"))))
    for path, (width, height), sampling, progressive in photos:
        one = tmp / "memory-one"
        shutil.rmtree(one, ignore_errors=True)
        one.mkdir()
        os.link(path, one / path.name)
        argv = tools(tmp / "queues")["thumbgen add --wait -w 2"](one, tmp / "memory-out", tmp)
        argv[argv.index("-w") + 1] = "1"
        _, _, peak = run_measured(argv, env)
        blocks = -(-width // 8) * -(-height // 8)
        per_pixel = {"4:4:4": 3.0, "4:2:2": 2.0, "4:2:0": 1.5}.get(sampling, 3.0)
        table.add(
            path.name[:40],
            f"{width * height / 1e6:.1f} MP",
            sampling,
            fmt_mib(blocks * 128 * per_pixel) if progressive else "none (baseline)",
            fmt_mib(peak),
        )
    table.note("coefficients: what libjpeg allocates for a progressive file of that size")
    return table


def _sampling(im: Image.Image) -> str:
    """The JPEG's chroma subsampling as J:a:b (from Pillow's layer list)."""
    layers = getattr(im, "layer", None) or []
    if len(layers) != 3:
        return "grey" if len(layers) == 1 else "?"
    h, v = layers[0][1], layers[0][2]
    return {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0"}.get((h, v), f"{h}x{v}")


def _check(out: Path, src: Path, name: str) -> None:
    """Every source got its thumbnail(s): a broken run is never reported as a fast one."""
    made = sum(len(f) for _, _, f in os.walk(out))
    expected = len(list(src.iterdir())) * (len(THREE_SIZES) if "3 sizes" in name else 1)
    if made != expected:
        raise RuntimeError(f"{name} wrote {made} thumbnails for {expected}")


def _reference(path: Path) -> Image.Image:
    """The full decode of ``path``, converted to sRGB through its profile, upright."""
    with Image.open(path) as im:
        im.load()
        icc = im.info.get("icc_profile")
        pixels = im.convert("RGB") if im.mode != "RGB" else im.copy()
        if icc:
            converted = ImageCms.profileToProfile(
                pixels,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
                flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
                outputMode="RGB",
            )
            pixels = converted if converted is not None else pixels
        pixels.info["exif"] = im.info.get("exif", b"")
    return ImageOps.exif_transpose(pixels)


def _mean_error(thumb: Image.Image, ref: Image.Image) -> float:
    """Mean absolute difference per channel (0-255) of two RGB images of one size."""
    diff = ImageChops.difference(thumb.convert("RGB"), ref)
    return sum(ImageStat.Stat(diff).mean) / 3


def quality(
    corpora: dict[str, Path], outputs: dict[tuple[str, str], Path], found: dict[str, Tool]
) -> dict[tuple[str, str], float]:
    """Mean error of each tool's 256 px thumbnails (first copy of each photo) per corpus."""
    # The corpora hold the same pixels (a lossless rewrite): one reference per photo,
    # from the baseline file (faster to decode fully).
    stems = sorted(p.stem for p in corpora["baseline"].iterdir() if p.stem.endswith("-0"))
    sums: dict[tuple[str, str], list[float]] = {}
    for stem in stems:
        full = _reference(corpora["baseline"] / f"{stem}.jpg")
        resized: dict[tuple[int, int], Image.Image] = {}
        for (corpus, name), out in outputs.items():
            path = out / ("256x256" if "3 sizes" in name else "") / f"{stem}.jpg"
            with Image.open(path) as thumb:
                thumb.load()
                if thumb.size not in resized:
                    resized[thumb.size] = full.resize(thumb.size, Image.Resampling.LANCZOS)
                sums.setdefault((corpus, name), []).append(_mean_error(thumb, resized[thumb.size]))
    return {key: sum(v) / len(v) for key, v in sums.items()}


def _report(
    report: Reporter,
    corpora: dict[str, Path],
    found: dict[str, Tool],
    times: dict[tuple[str, str], list[float]],
    cpu: dict[tuple[str, str], list[float]],
    peaks: dict[tuple[str, str], int],
    errors: dict[tuple[str, str], float],
    rounds: int,
) -> None:
    tg, vips, sharp, three, *befores = list(found)
    table = Table(
        f"peers: {len(list(corpora['baseline'].iterdir()))} files per corpus "
        "(copies of the make_corpus.sh photos), fit 256, q85, two processes; "
        f"medians of {rounds} rounds, tools alternating (wall, start-up included)",
        [
            "corpus",
            "tool",
            "median",
            "min",
            "max",
            "img/s",
            "peer/thumbgen",
            "CPU",
            "cores used",
            "peer/thumbgen CPU",
            "mean error",
            "peak RSS",
        ],
    )

    def median(data: dict[tuple[str, str], list[float]], corpus: str, name: str) -> float:
        return Stats.of(data[(corpus, name)]).median

    for corpus in corpora:
        count = len(list(corpora[corpus].iterdir()))
        base, base_cpu = median(times, corpus, tg), median(cpu, corpus, tg)
        for name in found:
            stats = Stats.of(times[(corpus, name)])
            used = median(cpu, corpus, name)
            ratio = cpu_ratio = ""
            if name not in (tg, three):
                ratio, cpu_ratio = f"{stats.median / base:.2f}x", f"{used / base_cpu:.2f}x"
            elif name == three:
                ratio = f"{stats.median / base:.2f}x one size"
                cpu_ratio = f"{used / base_cpu:.2f}x one size"
            err = errors.get((corpus, name))
            table.add(
                corpus,
                name,
                f"{stats.median:.2f} s",
                f"{stats.min:.2f} s",
                f"{stats.max:.2f} s",
                f"{count / stats.median:.1f}",
                ratio,
                f"{used:.2f} s",
                f"{used / stats.median:.2f}",
                cpu_ratio,
                "" if err is None else f"{err:.3f}",
                fmt_mib(peaks[(corpus, name)]),
            )
    for corpus, goal in GOALS.items():
        base, base_cpu = median(times, corpus, tg), median(cpu, corpus, tg)
        for before in befores:
            table.note(
                f"{corpus}: vipsthumbnail / thumbgen {median(times, corpus, vips) / base:.2f}x,"
                f" and {median(times, corpus, vips) / median(times, corpus, before):.2f}x"
                f" for {before}; before / now {median(times, corpus, before) / base:.2f}x"
            )
        for peer in (vips, sharp):
            ratio = median(times, corpus, peer) / base
            cpu_ratio = median(cpu, corpus, peer) / base_cpu
            verdict = "met" if ratio >= goal else "MISSED"
            table.note(
                f"{corpus}: {ratio:.2f}x {peer.split(',')[0]} (goal {goal}x): {verdict}"
                f" (CPU time: {cpu_ratio:.2f}x)"
            )
        ok = errors[(corpus, tg)] <= errors[(corpus, vips)]
        table.note(
            f"{corpus}: error {errors[(corpus, tg)]:.3f} vs vipsthumbnail "
            f"{errors[(corpus, vips)]:.3f} (goal: at or below): {'met' if ok else 'MISSED'}"
        )
        mem = peaks[(corpus, tg)]
        table.note(
            f"{corpus}: thumbgen peak RSS per process {fmt_mib(mem)} "
            f"(goal {fmt_mib(MEMORY_GOALS[corpus])}): "
            f"{'met' if mem <= MEMORY_GOALS[corpus] else 'MISSED'}"
        )
        sizes = median(times, corpus, three) / base
        table.note(
            f"{corpus}: 3 sizes {sizes:.2f}x one size (goal 1.3x): "
            f"{'met' if sizes <= 1.3 else 'MISSED'}"
            f" (CPU time: {median(cpu, corpus, three) / base_cpu:.2f}x)"
        )
    table.note("peer/thumbgen: the peer's median time over thumbgen's (above 1: thumbgen faster)")
    table.note(
        "CPU: user + system seconds of the whole process tree; cores used = CPU / wall "
        "(2 at most): on a busy machine a tool with more threads gets a larger share"
    )
    table.note("mean error: per channel, 0-255, against full decode + Lanczos to the same size")
    report.table(table)
