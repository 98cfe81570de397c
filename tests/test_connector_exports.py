"""The platforms' after-sales exports (CSV from the seller back offices), imported into a store:
each platform's columns and status words (GBK, UTF-8 with and without its mark), unknown words
for a person, bad rows reported with their lines while the others are kept, the file refused as a
whole when it is not the store's export, a second import and an older export changing nothing,
and the command."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from aftersales.cases.choices import CaseKind, CaseState
from aftersales.connectors import exports
from aftersales.connectors.base import UNMODELLED, RemoteRequest
from aftersales.connectors.exports import LAYOUTS, import_export
from aftersales.connectors.models import PlatformRequest, Store
from aftersales.connectors.sync import land
from aftersales.core.errors import InvalidInput

SAMPLES = Path(__file__).resolve().parent / "fakes" / "exports"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "connectors" / "exports.md"
BEIJING = ZoneInfo("Asia/Shanghai")
SAMPLE_OF = {
    "taobao": "taobao.csv",
    "tmall": "tmall.csv",
    "jd": "jd.csv",
    "pinduoduo": "pinduoduo.csv",
    "douyin": "douyin.csv",
    "kuaishou": "kuaishou.csv",
}


def sample(platform: str) -> bytes:
    return (SAMPLES / SAMPLE_OF[platform]).read_bytes()


def import_only(shop, platform: str, seller_id: str = "seller-1") -> Store:
    """A store without API access: no keys, its requests come from exports."""
    return Store.objects.create(
        shop=shop,
        platform=platform,
        name=f"{platform} 店",
        seller_id=seller_id,
        sealed_keys="",
        api_access=False,
    )


def stored(store: Store) -> dict[str, PlatformRequest]:
    return {row.request_id: row for row in PlatformRequest.objects.filter(store=store)}


def beijing(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BEIJING)


# --- each platform's export ----------------------------------------------------------------------


def test_the_samples_come_in_the_back_offices_encodings():
    # GBK (Taobao, Pinduoduo) is not UTF-8; Douyin's and Tmall's carry UTF-8's byte order mark
    for platform in ("taobao", "pinduoduo"):
        with pytest.raises(UnicodeDecodeError):
            sample(platform).decode("utf-8")
    assert sample("douyin").startswith(b"\xef\xbb\xbf") and sample("tmall").startswith(
        b"\xef\xbb\xbf"
    )
    assert not sample("jd").startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.platforms[0])
def test_every_status_word_of_a_platform_is_in_its_sample(layout):
    text = "".join(
        exports._text(sample(platform)) for platform in SAMPLE_OF if platform in layout.platforms
    )
    assert not [word for word in layout.statuses if word not in exports._key(text)]


@pytest.mark.parametrize("platform", list(SAMPLE_OF))
def test_each_status_word_lands_as_the_code_the_platforms_api_gives(shop, platform):
    store = import_only(shop, platform)
    layout = next(layout for layout in LAYOUTS if platform in layout.platforms)
    # when the platform's sample export is imported
    result = import_export(store=store, data=sample(platform), filename=SAMPLE_OF[platform])
    # then every readable row is kept and changed what was stored
    rows = stored(store)
    assert result.landed == len(rows) == result.rows - len(result.errors)
    assert result.changed == len(rows) > 0
    # and each status is the platform's code (JD's "done" joined to its result), or the word
    # kept as the export has it when the table does not know it, for a person
    codes = set(layout.statuses.values())
    for row in rows.values():
        if row.status in codes or row.status.startswith(f"{exports.JD_DONE}:"):
            continue
        assert row.needs_person and row.mapped_state == "", row.status


RO, RR, EX, RE, UN = (
    CaseKind.REFUND_ONLY,
    CaseKind.RETURN_REFUND,
    CaseKind.EXCHANGE,
    CaseKind.REPAIR,
    UNMODELLED,
)
S = CaseState
# request → (status, kind, mapped kind, mapped state, flags: money out, for a person, handling)
EXPECTED = {
    "taobao": {
        "9001": ("WAIT_SELLER_AGREE", "", RO, S.AWAITING_SELLER, ""),
        "9002": ("WAIT_BUYER_RETURN_GOODS", "", RR, S.AWAITING_RETURN, ""),
        "9003": ("WAIT_SELLER_CONFIRM_GOODS", "", RR, S.RETURN_IN_TRANSIT, ""),
        "9004": ("SELLER_REFUSE_BUYER", "", RO, S.REJECTED, "handling"),
        "9006": ("SUCCESS", "", RO, S.REFUNDED, "money"),
        "9007": ("WAIT_BUYER_CONFIRM_REDO_SEND_GOODS", "", UN, S.SHIPPED_TO_CUSTOMER, "person"),
        "9009": ("WAIT_SELLER_CONSIGN_GOOGDS", "换货", EX, S.REPLACEMENT_PENDING, ""),
        # a word the table does not know: kept as the export has it, for a person
        "9013": ("退款暂停审核中", "", "", "", "person"),
    },
    "tmall": {
        "8001": ("EXCHANGE_WAIT_BUYER_CONFIRM_GOODS", "换货", EX, S.SHIPPED_TO_CUSTOMER, ""),
        "8002": ("SUCCESS", "换货", EX, S.COMPLETED, ""),
        "8003": ("SUCCESS", "退货退款", RR, S.REFUNDED, "money handling"),
        # a kind word the table does not know: kept, for a person
        "8004": ("WAIT_SELLER_AGREE", "保价", "", "", "person"),
    },
    "jd": {
        "service:7001": ("10000", "10", RR, S.AWAITING_SELLER, ""),
        "service:7003": ("10002", "10", RR, S.REJECTED, "handling"),
        "service:7009": ("10010:100", "10", RR, S.REFUNDED, "money"),
        "service:7015": ("12000", "30", RE, S.REPAIRING, ""),
        "service:7018": ("13000", "10", RR, S.AWAITING_RETURN, ""),
        "service:7020": ("10010:70", "10", RR, S.CLOSED, ""),
        "service:7021": ("10010:80", "20", EX, S.COMPLETED, ""),
        "service:7022": ("10010:2", "30", RE, S.COMPLETED, ""),
        "service:7023": ("10010", "10", RR, S.REFUNDED, "money"),
        # a processing result the table does not know: the ticket waits for a person
        "service:7024": ("10010:另行协商", "10", "", "", "person"),
        # a status the platform documents and the mapping table does not know
        "service:7012": ("10013", "10", "", "", "person"),
    },
    "pinduoduo": {
        "6001": ("0", "2", "", "", "person"),
        "6002": ("2", "2", RO, S.AWAITING_SELLER, ""),
        "6007": ("7", "3", RR, S.AWAITING_RETURN, ""),
        "6008": ("8", "3", RR, S.REJECTED, "handling"),
        "6010": ("10", "2", RO, S.REFUNDED, "money"),
        "6016": ("16", "4", EX, S.COMPLETED, ""),
        "6020": ("22", "6", RE, S.AWAITING_RETURN, ""),
        "6026": ("33", "9", UN, S.AWAITING_SELLER, "person"),
        # the buyer sent the goods back: with its tracking number, in transit
        "6028": ("7", "3", RR, S.RETURN_IN_TRANSIT, ""),
    },
    "douyin": {
        "146701382803670001": ("6", "1", RO, S.AWAITING_SELLER, ""),
        "146701382803670003": ("11", "0", RR, S.RETURN_IN_TRANSIT, ""),
        "146701382803670004": ("12", "2", RO, S.REFUNDED, "money"),
        "146701382803670006": ("14", "3", EX, S.COMPLETED, ""),
        "146701382803670009": ("29", "0", RR, S.REJECTED, ""),
        "146701382803670010": ("12", "6", UN, S.REFUNDED, "money person"),
        "146701382803670012": ("12", "8", RE, S.COMPLETED, ""),
    },
    "kuaishou": {
        "21500000001": ("10", "10", RO, S.AWAITING_SELLER, ""),
        "21500000004": ("21", "1", RR, S.AWAITING_SELLER, "handling"),
        "21500000006": ("30", "3", EX, S.AWAITING_RETURN, ""),
        "21500000007": ("40", "1", RR, S.RETURN_IN_TRANSIT, ""),
        "21500000009": ("60", "1", RR, S.REFUNDED, "money"),
        "21500000011": ("60", "3", EX, S.COMPLETED, ""),
    },
}


@pytest.mark.parametrize("platform", list(EXPECTED))
def test_the_requests_mean_what_the_platforms_mapping_says(shop, platform):
    store = import_only(shop, platform)
    import_export(store=store, data=sample(platform))
    rows = stored(store)
    for request_id, expected in EXPECTED[platform].items():
        row = rows[request_id]
        flags = [("money", row.money_out), ("person", row.needs_person), ("handling", row.handling)]
        read = (row.status, row.kind, row.mapped_kind, row.mapped_state)
        assert (*read, " ".join(name for name, on in flags if on)) == expected, request_id


def test_a_row_keeps_what_the_export_says_in_the_apis_units(shop):
    store = import_only(shop, "taobao")
    import_export(store=store, data=sample("taobao"), filename="退款导出.csv")
    row = stored(store)["9001"]
    # the order number a spreadsheet would have shortened, written ="…", read whole
    assert row.order_id == "300000000000000001"
    assert row.amount == Decimal("10.50")
    # Beijing time as UTC; the version is the modified time where the export has none
    assert row.platform_created_at == beijing("2025-03-10 10:01:00")
    assert row.modified_at == beijing("2025-03-14 10:01:00")
    assert row.version == "2025-03-14 10:01:00"
    assert row.deadline_at == beijing("2025-03-17 10:01:00")
    assert row.reason == "七天无理由"
    # Taobao's kind is its has_good_return, as the API gives it
    assert row.payload["raw"]["has_good_return"] is False
    assert stored(store)["9002"].payload["raw"]["has_good_return"] is True
    line = row.payload["lines"][0]
    assert (line["sku"], line["title"], line["quantity"]) == ("TEA-1", "龙井茶 250g", 1)
    # where it came from, and only the columns read (not the buyer's name)
    source = row.payload["raw"]["export"]
    assert (source["file"], source["line"]) == ("退款导出.csv", 2)
    assert source["cells"]["退款状态"] == "买家已经申请退款，等待卖家同意"
    assert "买家会员名" not in source["cells"]
    assert stored(store)["9003"].payload["tracking_number"] == "SF100"


def test_the_versions_are_those_the_platforms_api_gives(shop):
    douyin = import_only(shop, "douyin", "d")
    import_export(store=douyin, data=sample("douyin"))
    # Douyin's update_time in epoch seconds
    row = stored(douyin)["146701382803670001"]
    assert row.version == str(int(beijing("2025-03-14 10:01:00").timestamp()))
    pdd = import_only(shop, "pinduoduo", "p")
    import_export(store=pdd, data=sample("pinduoduo"))
    # Pinduoduo's status and amount in fen
    assert stored(pdd)["6002"].version == "2:299"


# --- bad rows and refused files ------------------------------------------------------------------


def test_bad_rows_are_reported_with_their_lines_and_the_others_kept(shop):
    store = import_only(shop, "taobao")
    result = import_export(store=store, data=sample("taobao"))
    # the header is line 1; request 9014's reason spans lines 15 and 16
    assert [(error.row, error.message) for error in result.errors] == [
        (17, "“退款编号” is empty."),
        (18, "“买家退款金额” is not an amount in yuan: 十元"),
        (19, "“修改时间” is not a date and time (year-month-day hour:minute): 昨天下午"),
    ]
    rows = stored(store)
    assert result.rows == 18 and result.landed == len(rows) == 15
    assert rows["9014"].reason == "质量问题\n开线" and "9018" in rows
    assert not {"9016", "9017"} & set(rows)


def test_a_number_a_spreadsheet_shortened_is_a_bad_row(shop):
    store = import_only(shop, "douyin")
    header = "售后单号,订单编号,售后状态,售后类型,退款金额,申请时间,更新时间"
    row = "1.46701E+17,693647669243747,待商家同意,已发货仅退款,9,2025-03-10 10:00,2025-03-14 10:00"
    result = import_export(store=store, data=f"{header}\n{row}\n".encode())
    assert result.landed == 0 and result.errors[0].row == 2
    assert "“售后单号” was shortened by a spreadsheet" in result.errors[0].message


def test_amounts_and_times_as_the_back_offices_write_them(shop):
    store = import_only(shop, "kuaishou")
    header = "退款单号,订单编号,退款状态,售后类型,退款金额,申请时间,更新时间"
    cells = [
        ("1", "¥1,234.50", "2025/3/14 9:05"),
        ("2", "￥12.50元", "2025-03-14T09:05:00"),
        ("3", "12,50", "2025-03-14 09:05"),
        ("4", "12.505", "2025-03-14 09:05"),
        ("5", "-1", "2025-03-14 09:05"),
        ("6", "12", "2025-03-14"),
    ]
    rows = [f'R{n},O{n},退款成功,仅退款,"{a}",2025-03-10 10:00,{t}' for n, a, t in cells]
    text = "\n".join([header, *rows]) + "\n"
    result = import_export(store=store, data=text.encode())
    kept = stored(store)
    assert kept["R1"].amount == Decimal("1234.50") and kept["R2"].amount == Decimal("12.50")
    assert kept["R1"].modified_at == kept["R2"].modified_at == beijing("2025-03-14 09:05:00")
    assert [(error.row, error.message.split(":")[0]) for error in result.errors] == [
        (4, "“退款金额” is not an amount in yuan"),
        (5, "“退款金额” is not an amount in yuan"),
        (6, "“退款金额” is not an amount in yuan"),
        (7, "“更新时间” is not a date and time (year-month-day hour"),
    ]


def refused(store, data: bytes) -> InvalidInput:
    with pytest.raises(InvalidInput) as refusal:
        import_export(store=store, data=data)
    assert not PlatformRequest.objects.exists()
    return refusal.value


def test_another_platforms_export_is_refused_whole(shop):
    store = import_only(shop, "douyin")
    error = refused(store, sample("taobao"))
    assert error.code == "export_wrong_platform"
    assert str(error.detail) == "This is an export of Taobao / Tmall, but the store is on Douyin."
    # a Taobao export fits a Tmall store (one back office, one export)
    tmall = import_only(shop, "tmall", "t")
    assert import_export(store=tmall, data=sample("taobao")).landed == 15


def test_files_that_are_no_export_are_refused_whole(shop):
    store = import_only(shop, "kuaishou")
    assert refused(store, b"").code == "export_empty"
    assert refused(store, b" \r\n").code == "export_empty"
    assert refused(store, "姓名,电话\n张三,138\n".encode()).code == "export_unrecognised"
    assert refused(store, b"PK\x03\x04 a workbook").code == "export_not_csv"
    assert refused(store, b"\xff\xfe\x80\xff").code == "export_unreadable"
    assert refused(store, b"x" * (20 * 1024 * 1024 + 1)).code == "export_too_large"
    # the columns a request needs must all be there
    missing = refused(store, "退款单号,订单编号,退款状态,售后类型,退款金额,申请时间\n".encode())
    assert missing.code == "export_columns_missing"
    assert str(missing.detail) == "The export lacks the columns 更新时间."


def test_more_rows_than_an_import_takes_are_refused_whole(shop, monkeypatch):
    store = import_only(shop, "kuaishou")
    monkeypatch.setattr(exports, "MAX_ROWS", 10)
    error = refused(store, sample("kuaishou"))  # 11 rows
    assert error.code == "export_too_large"
    assert str(error.detail) == "The file has more than 10 rows: export shorter spans."


def test_the_same_words_read_the_same_in_gbk_and_in_utf8(shop):
    text = exports._text(sample("pinduoduo"))
    gbk, utf8 = import_only(shop, "pinduoduo", "a"), import_only(shop, "pinduoduo", "b")
    import_export(store=gbk, data=text.encode("gb18030"))
    import_export(store=utf8, data=text.encode("utf-8"))
    assert {k: r.status for k, r in stored(gbk).items()} == {
        k: r.status for k, r in stored(utf8).items()
    }


# --- idempotent ----------------------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing_the_second_time(shop):
    store = import_only(shop, "jd")
    first = import_export(store=store, data=sample("jd"))
    before = {k: (r.revisions, r.updated_at, r.status) for k, r in stored(store).items()}
    again = import_export(store=store, data=sample("jd"))
    assert again.landed == first.landed and again.changed == 0
    assert {k: (r.revisions, r.updated_at, r.status) for k, r in stored(store).items()} == before


def _read_by_api(row: PlatformRequest, **changes) -> RemoteRequest:
    """The request as a sync would read it: the stored one, changed."""
    base = RemoteRequest(
        platform=row.store.platform,
        request_id=row.request_id,
        order_id=row.order_id,
        status=row.status,
        kind=row.kind,
        version=row.version,
        created_at=row.platform_created_at,
        modified_at=row.modified_at,
        amount=row.amount,
    )
    return dataclasses.replace(base, **changes)


def test_an_export_older_than_what_a_sync_read_changes_nothing(shop):
    # given a store with API access that imports an export to fill the time before its sync
    store = import_only(shop, "kuaishou")
    Store.objects.filter(pk=store.pk).update(api_access=True)
    import_export(store=store, data=sample("kuaishou"))
    row = stored(store)["21500000001"]
    # when a sync reads the request later, refunded, and one of the same moment with its token
    land(store, _read_by_api(row, status="60", modified_at=row.modified_at + dt.timedelta(hours=1)))
    same = stored(store)["21500000002"]
    land(store, _read_by_api(same, version="refundVersion-7", status="11"))
    read = {k: (r.status, r.version, r.revisions) for k, r in stored(store).items()}
    # then importing the export again changes neither
    result = import_export(store=store, data=sample("kuaishou"))
    assert result.changed == 0
    assert {k: (r.status, r.version, r.revisions) for k, r in stored(store).items()} == read
    assert read["21500000001"][0] == "60" and read["21500000002"][1] == "refundVersion-7"


def test_a_newer_export_changes_what_an_older_one_kept(shop):
    store = import_only(shop, "douyin")
    import_export(store=store, data=sample("douyin"))
    newer = (
        exports._text(sample("douyin"))
        .replace("待商家同意,已发货仅退款", "售后成功,已发货仅退款")
        .replace("2025-03-14 10:01:00", "2025-03-15 09:00:00")
    )
    result = import_export(store=store, data=newer.encode("utf-8"))
    assert result.changed == 1
    row = stored(store)["146701382803670001"]
    assert (row.status, row.mapped_state, row.money_out, row.revisions) == (
        "12",
        CaseState.REFUNDED,
        True,
        2,
    )


# --- the tables and their documentation ----------------------------------------------------------


def test_each_platforms_request_id_column_is_its_own():
    names = [exports._key(n) for layout in LAYOUTS for n in layout.columns["request_id"]]
    assert len(names) == len(set(names))


def test_the_documentation_lists_every_status_word_and_column():
    text = exports._key(DOCS.read_text(encoding="utf-8"))
    for layout in LAYOUTS:
        assert not [word for word in layout.statuses if word not in text], layout.platforms
        assert not [name for name, aliases in layout.columns.items() if aliases[0] not in text]


# --- the command ---------------------------------------------------------------------------------


def command(*args) -> tuple[str, str, str]:
    """What the command printed, and why it failed ("" when it did not)."""
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), str(error)
    return out.getvalue(), err.getvalue(), ""


def test_the_command_imports_a_file_and_names_the_rows_not_imported(shop):
    store = import_only(shop, "taobao")
    # a file with bad rows: imported, the bad rows named by their lines, and a non-zero exit
    out, err, failed = command("import_platform", "--store", str(store.pk), SAMPLES / "taobao.csv")
    assert out.strip() == "rows=18 kept=15 changed=15 errors=3"
    assert "line 17: “退款编号” is empty." in err.splitlines()
    assert failed == "3 rows were not imported"
    # a clean file
    clean = import_only(shop, "douyin", "d")
    out, _err, failed = command("import_platform", "--store", str(clean.pk), SAMPLES / "douyin.csv")
    assert (out.strip(), failed) == ("rows=12 kept=12 changed=12 errors=0", "")


def test_the_command_refuses_another_platforms_file_and_keeps_nothing(shop):
    store = import_only(shop, "jd")
    _out, _err, failed = command(
        "import_platform", "--store", str(store.pk), SAMPLES / "kuaishou.csv"
    )
    assert failed.startswith("export_wrong_platform: This is an export of Kuaishou")
    _out, _err, failed = command("import_platform", "--store", "999999", SAMPLES / "jd.csv")
    assert failed == "no store 999999"
    assert not PlatformRequest.objects.exists()
