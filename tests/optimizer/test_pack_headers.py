"""peek_header: the header read from the ``pack:`` block alone equals the header of the whole file."""

from __future__ import annotations

import pytest

from optimizer.errors import CatalogError
from optimizer.packs import PACK_NAMES, embedded_pack, peek_header, read_header

HEADER = """pack:
  name: prices
  version: "2026.12.1"
  as_of: 2026-11-30
  # a comment inside the block

  sources: [nvidia_h20_price]
"""


@pytest.mark.parametrize("name", PACK_NAMES)
def test_every_shipped_pack_peeks_the_header_it_reads(name: str) -> None:
    pack = embedded_pack(name)
    assert peek_header(pack.text, pack.origin) == read_header(pack.text, pack.origin)


@pytest.mark.parametrize("text", [
    "# prices\n" + HEADER + "schema_version: 1\naccelerators:\n  h20: {}\n",
    "schema_version: 1\naccelerators:\n  h20: {}\n" + HEADER,  # the block at the end
    "pack: {name: prices, version: '2026.12.1', as_of: 2026-11-30, sources: [nvidia_h20_price]}\nx: 1\n",
])
def test_the_block_is_found_wherever_it_is_and_in_either_style(text: str) -> None:
    assert peek_header(text, "t.yaml") == read_header(text, "t.yaml")
    assert peek_header(text, "t.yaml").version == "2026.12.1"


def test_odd_files_are_read_whole_so_their_errors_are_the_files() -> None:
    twice = HEADER + "pack:\n  name: prices\n  version: '9'\n  as_of: 2027-01-01\n  sources: [a]\n"
    assert peek_header(twice, "t.yaml") == read_header(twice, "t.yaml")  # YAML's own choice, not the first block
    with pytest.raises(CatalogError, match="no `pack:` header"):
        peek_header("schema_version: 1\n", "t.yaml")
    with pytest.raises(CatalogError, match="not valid YAML"):
        peek_header("pack: [unclosed\n", "t.yaml")
