"""Ways to damage a good file, shared by the fault matrices of the readers and of the commands."""

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(64)


def truncated(data, fraction):
    """``data`` cut at ``fraction`` of its length; in text, inside a record's first field (after
    any leading blanks): a cut at a record end leaves a valid shorter file."""
    cut = int(len(data) * fraction)
    if b"\n" in data[:cut]:
        start = data.rfind(b"\n", 0, cut) + 1
        cut = start + len(data[start:]) - len(data[start:].lstrip(b" \t")) + 2
    return data[:cut]


#: fault name -> bytes of a good file -> damaged bytes.
DAMAGE = {
    "empty": lambda data: b"",
    "truncated_third": lambda data: truncated(data, 1 / 3),
    "truncated_two_thirds": lambda data: truncated(data, 2 / 3),
    "garbled_header": lambda data: b"\xff\xfe garbled \x00\x01 header bytes \x02\xff" * 2 + data[64:],
    "picture": lambda data: PNG,
}
