"""A labelled set of documents of every kind, rendered as a person would hand them in.

    python -m bench.analysis_dataset --out .data/analysis-set [--per-kind 12] [--seed 7]

Each document comes from one of several templates per kind (none of them the examples the
classifier learns from, ``adapters/analysis/examples.json``), with random people, numbers and
dates, in one of several layouts (label and value on one line, the value on the next line,
upper case), font sizes, and one of four forms: a PDF with a text layer, a PDF of a scanned
image, a photo-like PNG (slightly rotated, blurred, noisy) and a JPEG of low quality. The
labels (kind, expiry date, name, number) are written beside the files as ``labels.json``.

Rendering needs Pillow only (a runtime dependency, through the OCR engine); text PDFs are
written by hand (Helvetica, one text object per line).
"""

from __future__ import annotations

import argparse
import io
import json
import random
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

FORMS = ("pdf-text", "pdf-scan", "png-photo", "jpeg-low")
FIRST = ("Alice", "Maria", "John", "Aiko", "Omar", "Lena", "Pedro", "Grace", "Ivan", "Nora", "Samuel", "Chen")
LAST = ("Martin", "Lopez", "Smith", "Tanaka", "Haddad", "Berg", "Silva", "Okafor", "Petrov", "Holm", "Reed", "Wu")


@dataclass(frozen=True)
class Sample:
    file: str
    content_type: str
    form: str
    kind: str
    expiry: str | None
    name: str | None
    number: str | None


@dataclass(frozen=True)
class Person:
    name: str
    number: str
    expiry: date
    issued: date
    born: date


def _person(rng: random.Random, today: date) -> Person:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(rng.choice((1, 2))))
    number = letters + "".join(rng.choice("0123456789") for _ in range(rng.choice((6, 7, 8))))
    return Person(
        name=name,
        number=number,
        expiry=today + timedelta(days=rng.randint(-200, 3000)),
        issued=today - timedelta(days=rng.randint(100, 3000)),
        born=date(rng.randint(1960, 2003), rng.randint(1, 12), rng.randint(1, 28)),
    )


def _day(d: date, rng: random.Random) -> str:
    style = rng.choice(("iso", "dmy", "mon"))
    if style == "iso":
        return d.isoformat()
    if style == "dmy":
        return d.strftime("%d.%m.%Y")
    return d.strftime("%d %b %Y").upper()


def _pair(label: str, value: str, rng: random.Random, split: bool) -> list[str]:
    return [label, value] if split else [f"{label}: {value}"]


def lines_for(kind: str, p: Person, rng: random.Random) -> tuple[list[str], dict[str, str | None]]:
    """The text of one document of ``kind`` and what it should be read as."""
    split = rng.random() < 0.3
    expiry, name, number = _day(p.expiry, rng), p.name, p.number
    labels: dict[str, str | None] = {"expiry": None, "name": None, "number": None}
    if kind == "ID":
        title = rng.choice(("IDENTITY CARD", "PASSPORT", "RESIDENCE PERMIT", "NATIONAL IDENTITY DOCUMENT"))
        lines = [title, "REPUBLIC OF EXAMPLE"]
        lines += _pair("Name", name, rng, split)
        lines += _pair(rng.choice(("Document No", "Card number", "Passport No")), number, rng, split)
        lines += _pair("Date of birth", _day(p.born, rng), rng, split)
        lines += _pair("Date of issue", _day(p.issued, rng), rng, split)
        lines += _pair(rng.choice(("Date of expiry", "Expiry date", "Valid until")), expiry, rng, split)
        lines.append("Nationality: EXAMPLIAN  Sex: X")
        labels = {"expiry": p.expiry.isoformat(), "name": name, "number": number}
    elif kind == "CERTIFICATE":
        course = rng.choice(("First Aid at Work", "Fire Warden", "Working at Heights", "Data Protection Basics"))
        lines = [rng.choice(("CERTIFICATE", "CERTIFICATE OF TRAINING", "Certificate of Competence"))]
        lines.append(f"This certifies that {name}")
        lines.append(f"has successfully completed the course {course}")
        lines += _pair("Certificate No", number, rng, split)
        lines += _pair("Issued", _day(p.issued, rng), rng, split)
        lines += _pair(rng.choice(("Valid until", "Expires", "Expiry date")), expiry, rng, split)
        lines.append("Training provider and assessor signature")
        labels = {"expiry": p.expiry.isoformat(), "name": name, "number": number}
    elif kind == "CONTRACT":
        lines = [rng.choice(("EMPLOYMENT CONTRACT", "Contract of Employment", "EMPLOYMENT AGREEMENT"))]
        lines.append("This agreement is entered into by Example Ltd (the Employer)")
        lines += _pair("Employee", name, rng, split)
        lines.append(f"Start date {_day(p.issued, rng)}. Position: Analyst. Probation: 6 months.")
        lines.append("Salary: 52,000 per year, paid monthly. Working hours: 40 per week.")
        lines.append("Either party may end this contract with one month's written notice.")
        lines.append("Signed by the Employer and the Employee")
        labels = {"expiry": None, "name": name, "number": None}
    elif kind == "TAX_FORM":
        lines = [rng.choice(("Form W-4", "TAX DECLARATION FORM", "Employee Tax Withholding Form"))]
        lines.append("Tax year 2026. Internal revenue office.")
        lines += _pair("Name of taxpayer", name, rng, split)
        lines.append(f"Taxpayer identification number {number}")
        lines.append("Filing status: single. Allowances claimed: 2. Extra withholding: 0.")
        lines.append("Under penalties of perjury, I declare this certificate is correct.")
        labels = {"expiry": None, "name": name, "number": None}
    else:
        lines = [rng.choice(("INVOICE", "Meeting notes", "Receipt"))]
        lines.append(f"Reference {number}")
        lines.append("Items: office chairs 2 x 140.00, desk lamp 1 x 35.00")
        lines.append("Total 315.00. Payment within 30 days to the account below.")
        lines.append("Thank you for your business.")
    if rng.random() < 0.3:
        lines = [line.upper() for line in lines]
        labels = {k: (v.upper() if k == "name" and v else v) for k, v in labels.items()}
    return lines, labels


def text_pdf(lines: list[str], size: int = 12) -> bytes:
    """A one-page PDF whose text layer holds ``lines`` (Helvetica)."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    leading = int(size * 1.6)
    body = "".join(
        f"BT /F1 {size} Tf 60 {780 - i * leading} Td ({escape(line)}) Tj ET\n" for i, line in enumerate(lines)
    )
    stream = body.encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Resources << /Font << /F1 5 0 R >> >>"
        b" /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + content + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def image(lines: list[str], rng: random.Random, *, photo: bool, size: int | None = None) -> object:
    """The document as a picture: a card or page in black on white; ``photo`` adds a tint, a
    small rotation, blur and noise."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    size = size or rng.choice((26, 30, 34))
    font = ImageFont.load_default(size=size)
    width = max(700, int(max(len(line) for line in lines) * size * 0.6) + 80)
    height = 60 + len(lines) * int(size * 1.7)
    paper = (255, 255, 255) if not photo else tuple(rng.randint(225, 250) for _ in range(3))
    picture = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(picture)
    for i, line in enumerate(lines):
        draw.text((40, 30 + i * int(size * 1.7)), line, fill=(20, 20, 30), font=font)
    if photo:
        picture = picture.rotate(rng.uniform(-2.0, 2.0), expand=True, fillcolor=(120, 120, 120))
        picture = picture.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
        noise = Image.effect_noise(picture.size, rng.uniform(8, 20)).convert("RGB")
        picture = Image.blend(picture, noise, 0.08)
    return picture


def render(kind: str, form: str, rng: random.Random, today: date) -> tuple[bytes, str, dict[str, str | None]]:
    person = _person(rng, today)
    lines, labels = lines_for(kind, person, rng)
    if form == "pdf-text":
        return text_pdf(lines, rng.choice((10, 11, 12))), "application/pdf", labels
    buffer = io.BytesIO()
    picture = image(lines, rng, photo=form != "pdf-scan")
    if form == "pdf-scan":
        picture.save(buffer, "PDF", resolution=150)  # type: ignore[attr-defined]
        return buffer.getvalue(), "application/pdf", labels
    if form == "png-photo":
        picture.save(buffer, "PNG")  # type: ignore[attr-defined]
        return buffer.getvalue(), "image/png", labels
    picture.save(buffer, "JPEG", quality=rng.choice((35, 50, 65)))  # type: ignore[attr-defined]
    return buffer.getvalue(), "image/jpeg", labels


KINDS = ("CONTRACT", "ID", "TAX_FORM", "CERTIFICATE", "OTHER")


def generate(out: Path, per_kind: int, seed: int, today: date, *, stagger: bool = False) -> list[Sample]:
    """``per_kind`` documents of each kind, the forms in turn; ``stagger`` starts each kind at
    the next form (a small sample then still holds every form)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    samples = []
    for k, kind in enumerate(KINDS):
        for i in range(per_kind):
            form = FORMS[(i + (k if stagger else 0)) % len(FORMS)]
            data, content_type, labels = render(kind, form, rng, today)
            suffix = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}[content_type]
            name = f"{kind.lower()}-{i:03d}-{form}.{suffix}"
            (out / name).write_bytes(data)
            samples.append(Sample(name, content_type, form, kind, labels["expiry"], labels["name"], labels["number"]))
    (out / "labels.json").write_text(json.dumps([asdict(s) for s in samples], indent=1))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(".data/analysis-set"))
    parser.add_argument("--per-kind", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    samples = generate(args.out, args.per_kind, args.seed, date.today())
    print(f"{len(samples)} documents in {args.out}")


if __name__ == "__main__":
    main()
