"""The field checks every form shares: what each accepts, what it refuses and with which words."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from starlette.datastructures import FormData

from pledge import forms
from pledge.errors import Invalid

WEBSITE_MESSAGE = "Enter the full address of the website, like https://contoh.or.id."


@pytest.mark.parametrize(
    "raw",
    [
        "https://contoh.or.id",
        "http://contoh.or.id/tentang?x=1#a",
        "HTTPS://Contoh.or.id:8443/",
        "  https://contoh.or.id  ",
        "https://xn--80ak6aa92e.com/",
    ],
)
def test_http_url_accepts_full_web_addresses(raw: str) -> None:
    assert forms.http_url(raw) == raw.strip()


def test_http_url_leaves_an_empty_field_empty() -> None:
    assert forms.http_url("   ") is None


@pytest.mark.parametrize(
    "raw",
    [
        "contoh.or.id",  # no scheme
        "ftp://contoh.or.id",
        "javascript:alert(1)",
        "https://",  # no host
        "https://user@contoh.or.id",
        "https://user:secret@contoh.or.id/",
        "https://contoh.or.id:99999/",
        "https://contoh.or.id:0/",
        "https://contoh.or.id:port/",
        "https://contoh .or.id",
        "https://contoh.or.id/\tx",
        "https://contoh.or.id/\x7f",
        "https://contoh.or.id/" + "a" * 300,
    ],
)
def test_http_url_refuses_what_is_not_a_plain_web_address(raw: str) -> None:
    with pytest.raises(forms.FieldError, match="full address of the website"):
        forms.http_url(raw)


def test_http_url_speaks_of_the_field_it_checks() -> None:
    with pytest.raises(forms.FieldError, match="fact-check link"):
        forms.http_url("nope", message="Enter the fact-check link.")


def test_text_trims_requires_and_limits() -> None:
    assert forms.text("  Budi ", max_length=10, too_long="long") == "Budi"
    assert forms.text("", max_length=10, too_long="long") == ""
    with pytest.raises(forms.FieldError, match="Enter a name"):
        forms.text("   ", max_length=10, too_long="long", required="Enter a name.")
    with pytest.raises(forms.FieldError, match=r"^long$"):
        forms.text("x" * 11, max_length=10, too_long="long")


def test_choice_and_integer() -> None:
    assert forms.choice(" admin ", {"admin", "moderator"}, message="Choose a role.") == "admin"
    assert forms.choice("", {"admin"}, message="Choose a role.", required=False) == ""
    with pytest.raises(forms.FieldError, match="Choose a role"):
        forms.choice("owner", {"admin", "moderator"}, message="Choose a role.")
    assert forms.integer("42", minimum=1, maximum=100, message="bad") == 42
    for raw in ("0", "101", "-1", "4.2", "٤٢", "", "1e3"):
        with pytest.raises(forms.FieldError, match="bad"):
            forms.integer(raw, minimum=1, maximum=100, message="bad")


def test_email_and_contact_normalise_as_the_site_stores_them() -> None:
    assert forms.email(" Budi@Contoh.ID ") == "budi@contoh.id"
    assert forms.contact("0812-3456-7890") == "+6281234567890"
    with pytest.raises(forms.FieldError, match="does not look right"):
        forms.email("budi@")
    with pytest.raises(forms.FieldError):
        forms.contact("hello")


def test_checks_collect_every_message_and_keep_the_first_of_a_field() -> None:
    checks = forms.Checks()
    name = checks.run("name", forms.text, "Budi", max_length=10, too_long="long")
    site = checks.run("website", forms.http_url, "https://user@x.id")
    checks.refuse("name", "second message")
    checks.merge({"slug": "taken"})
    assert name == "Budi"
    assert site is None
    with pytest.raises(Invalid) as raised:
        checks.done()
    assert raised.value.errors == {
        "website": WEBSITE_MESSAGE,
        "slug": "taken",
        "name": "second message",
    }


def test_checks_without_messages_pass() -> None:
    checks = forms.Checks()
    checks.run("name", forms.text, "Budi", max_length=10, too_long="long")
    checks.done()


def test_text_collapses_a_one_line_field() -> None:
    assert forms.text("  Rina \n\t Putri ", max_length=20, too_long="long") == "Rina \n\t Putri"
    assert forms.text("  Rina \n\t Putri ", max_length=20, too_long="long", collapse=True) == (
        "Rina Putri"
    )
    # The length counted is the collapsed one.
    assert forms.text("a    b", max_length=3, too_long="long", collapse=True) == "a b"
    with pytest.raises(forms.FieldError, match="Enter a name"):
        forms.text(" \n ", max_length=3, too_long="long", required="Enter a name.", collapse=True)


def test_a_message_given_as_a_function_is_made_only_when_shown() -> None:
    made: list[str] = []

    def message() -> str:
        made.append("made")
        return "Enter your name."

    assert forms.text("Rina", max_length=10, too_long=message, required=message) == "Rina"
    assert made == []
    with pytest.raises(forms.FieldError, match=r"^Enter your name\.$"):
        forms.text("", max_length=10, too_long=message, required=message)
    assert made == ["made"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Use at least 10 characters for your password."),
        ("x" * 9, "Use at least 10 characters for your password."),
        ("x" * 201, "Use at most 200 characters for your password."),
    ],
)
def test_password_refuses_too_short_and_too_long(raw: str, message: str) -> None:
    with pytest.raises(forms.FieldError) as raised:
        forms.password(raw)
    assert str(raised.value) == message


def test_password_keeps_what_was_typed() -> None:
    assert forms.password(" ten chars ") == " ten chars "
    assert forms.password("x" * 200) == "x" * 200


def test_slug_lowercases_and_checks_the_shape() -> None:
    assert forms.slug("  Pemilu-Damai-2029 ", message="bad") == "pemilu-damai-2029"
    assert forms.slug("", message="bad") == ""
    with pytest.raises(forms.FieldError, match=r"^required$"):
        forms.slug("  ", message="bad", required="required")
    for raw in ("pemilu damai", "pemilu--damai", "-pemilu", "pemilu_damai", "pémilu"):
        with pytest.raises(forms.FieldError, match=r"^bad$"):
            forms.slug(raw, message="bad")
    with pytest.raises(forms.FieldError, match=r"^too long$"):
        forms.slug("a" * 65, message="bad", too_long="too long")
    assert forms.slug("a" * 64, message="bad") == "a" * 64


def test_member_names_an_enumeration_member_by_its_value() -> None:
    from pledge.accounts.models import Role

    assert forms.member(" admin ", Role, message="Choose a role.") is Role.ADMIN
    for raw in ("", "owner", "ADMIN"):
        with pytest.raises(forms.FieldError, match="Choose a role"):
            forms.member(raw, Role, message="Choose a role.")


def test_field_checks_one_field_alone() -> None:
    assert forms.field("email", forms.email, "Budi@Contoh.ID") == "budi@contoh.id"
    with pytest.raises(Invalid) as raised:
        forms.field("email", forms.email, "budi@")
    assert list(raised.value.errors) == ["email"]


def test_checks_as_a_block_raise_at_its_end_and_let_other_errors_through() -> None:
    with pytest.raises(Invalid) as raised, forms.Checks() as checks:
        checks.run("name", forms.text, "", max_length=10, too_long="long", required="Enter.")
        checks.refuse("website", "bad")
        assert not checks.ok("name")
        assert checks.ok("slug")
    assert raised.value.errors == {"name": "Enter.", "website": "bad"}
    with pytest.raises(KeyError), forms.Checks() as checks:
        checks.refuse("name", "never raised as Invalid")
        raise KeyError("name")
    with forms.Checks() as checks:
        checks.run("name", forms.text, "Rina", max_length=10, too_long="long")


def test_reading_a_posted_form() -> None:
    from io import BytesIO

    from starlette.datastructures import FormData, Headers, UploadFile

    picture = UploadFile(BytesIO(b"\xff\xd8 picture"), filename="a.jpg", headers=Headers())
    empty = UploadFile(BytesIO(b""), filename="", headers=Headers())
    posted = FormData(
        [
            ("name", "Rina\x00Putri"),
            ("long", "x" * 2000),
            ("pledges", "a"),
            ("pledges", picture),
            ("pledges", "b\x00"),
            ("pledges", "c" * 200),
            ("screenshot", picture),
            ("nothing", empty),
        ]
    )
    assert forms.form_text(posted, "name") == "Rina Putri"
    assert forms.form_text(posted, "long") == "x" * forms.FIELD_MAX
    assert forms.form_text(posted, "long", 5) == "xxxxx"
    assert forms.form_text(posted, "screenshot") == ""
    assert forms.form_text(posted, "missing") == ""
    assert forms.form_values(posted, "pledges", 100) == ["a", "b ", "c" * 100]
    assert forms.form_values(posted, "pledges", 100, count=2) == ["a", "b "]
    assert forms.form_values(posted, "missing", 100) == []
    assert forms.form_file(posted, "screenshot") == b"\xff\xd8 picture"
    assert forms.form_file(posted, "nothing") is None
    assert forms.form_file(posted, "name") is None
    assert forms.form_file(posted, "missing") is None


@dataclass(frozen=True, slots=True)
class Posting(forms.PostedForm):
    """Every kind of field a form object reads, with and without a declaration of its own."""

    title: str = ""
    note: str = forms.posted(limit=5)
    secret: str = forms.posted(limit=8, typed=True)
    tags: tuple[str, ...] = forms.posted((), limit=3, count=2)
    picture: bytes | None = None
    role: str = forms.posted("moderator", limit=20)


def test_a_form_object_reads_each_field_by_its_type() -> None:
    from io import BytesIO

    from starlette.datastructures import FormData, Headers, UploadFile

    picture = UploadFile(BytesIO(b"\x89PNG"), filename="a.png", headers=Headers())
    posted = FormData(
        [
            ("title", "t" * 2000),
            ("note", "a\x00bcdefg"),
            ("secret", "p\x00ssword-that-is-long"),
            ("tags", "satu"),
            ("tags", picture),
            ("tags", "dua"),
            ("tags", "tiga"),
            ("picture", picture),
            ("ignored", "x"),
        ]
    )
    assert Posting.read(posted) == Posting(
        title="t" * forms.FIELD_MAX,
        note="a bcd",
        secret="p\x00ssword",
        tags=("sat", "dua"),
        picture=b"\x89PNG",
        role="",  # a field left out of the post reads as empty, not as its default
    )
    assert Posting.read(FormData()) == Posting(role="")


def test_a_form_object_reads_an_address_s_query_too() -> None:
    from starlette.datastructures import QueryParams

    assert Posting.read(QueryParams("title=Cari&tags=a&tags=b&tags=c")) == Posting(
        title="Cari", tags=("a", "b"), role=""
    )


def test_a_field_of_a_type_no_post_holds_is_refused_when_read() -> None:
    @dataclass(frozen=True)
    class Counted(forms.PostedForm):
        count: int = 0

    with pytest.raises(TypeError, match="count"):
        Counted.read(FormData())


def test_an_email_may_say_what_to_write_when_it_is_left_empty() -> None:
    with pytest.raises(forms.FieldError, match=r"^Enter your email address\.$"):
        forms.email("  ", required="Enter your email address.")
    with pytest.raises(forms.FieldError, match="does not look right"):
        forms.email("  ")
    assert forms.email(" Rina@Contoh.ID ", required="Enter it.") == "rina@contoh.id"
