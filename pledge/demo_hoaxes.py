"""The demo's hoax reports, taken through the whole loop: reported with screenshots, checked by
two moderators, published with stamped pictures, reported to the platforms, one waiting for
its reporter's answer, and months of history for the transparency page. Seeded once: a campaign
that already has reports is left as it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session, select

from pledge.campaigns.models import CampaignView
from pledge.db import utcnow
from pledge.demo_pictures import Post, screenshot
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import HoaxReport, hoax_case_table, hoax_report_table
from pledge.hoaxes.service import months
from pledge.moderation import service as moderation

if TYPE_CHECKING:
    from pledge.accounts.access import ModeratorContext

# The months of history shown: the demo's verdicts were published over this many months.
MONTHS = 6


@dataclass(frozen=True, slots=True)
class DemoCase:
    """A hoax as reporters sent it, and what moderators did with it."""

    key: str
    platform: str
    category: str
    url: str | None
    description: str
    post: Post | None
    reporters: int  # how many people reported it
    days_ago: int  # when it was first reported
    # What happened: "published", "awaiting_approval", "needs_info", "not_hoax", "rejected",
    # or "new" (still in the queue).
    outcome: str
    label: str = ""
    claim: str = ""
    correction: str = ""
    explanation: str = ""
    claim_author: str = ""
    question: str = ""
    hours_to_verdict: int = 30
    # Reports made elsewhere: (target, days after the first report, outcome, days to outcome)
    escalations: tuple[tuple[str, int, str, int], ...] = field(default=())


CASES: tuple[DemoCase, ...] = (
    DemoCase(
        key="amplop-ai",
        platform="tiktok",
        category="ai_generated",
        url="https://www.tiktok.com/@kabar.pemilu.viral/video/7301234567890123456",
        description="Foto capres terima amplop, kelihatan aneh tangannya. Buatan AI?",
        post=Post(
            app="TikTok",
            bar=(20, 20, 20),
            account="@kabar.pemilu.viral",
            caption="Foto asli! Capres terima amplop dari mafia tambang, sebarkan sebelum dihapus!!",
            sky=(120, 160, 220),
            ground=(60, 70, 40),
            seed=1,
        ),
        reporters=14,
        days_ago=150,
        outcome="published",
        label="BUATAN AI",
        claim="Foto capres menerima amplop dari mafia tambang",
        correction="Foto itu dibuat dengan AI: tangan, teks di amplop dan latar tidak wajar, "
        "dan foto aslinya tidak pernah ada di media mana pun.",
        explanation=(
            "Kami memeriksa foto ini dengan pencarian gambar terbalik: tidak ada versi lebih "
            "lama di media mana pun. Jari tangan yang memegang amplop berjumlah enam, tulisan "
            "di amplop tidak bisa dibaca, dan bayangan wajah tidak searah dengan cahaya.\n\n"
            "Akun yang pertama kali mengunggahnya dibuat dua hari sebelumnya dan hanya "
            "mengunggah konten politik."
        ),
        claim_author="Akun TikTok @kabar.pemilu.viral",
        hours_to_verdict=20,
        escalations=(("tiktok", 1, "removed", 2), ("bawaslu", 2, "no_answer", 14)),
    ),
    DemoCase(
        key="c6",
        platform="whatsapp",
        category="voting_info",
        url=None,
        description="Pesan berantai di grup keluarga: tanpa undangan C6 tidak bisa nyoblos.",
        post=Post(
            app="WhatsApp",
            bar=(7, 94, 84),
            account="Grup Keluarga Besar",
            caption="PENTING!! Pemilih yang tidak dapat undangan C6 TIDAK BISA mencoblos. "
            "Teruskan ke semua grup!",
            sky=(236, 229, 221),
            ground=(200, 190, 170),
            seed=2,
        ),
        reporters=37,
        days_ago=120,
        outcome="published",
        label="SALAH",
        claim="Pemilih tanpa undangan C6 tidak bisa mencoblos",
        correction="Pemilih yang terdaftar di DPT tetap bisa mencoblos dengan membawa KTP-el, "
        "walau tidak menerima undangan C6.",
        explanation=(
            "Menurut peraturan KPU, surat pemberitahuan (C6) bukan syarat untuk memilih. "
            "Pemilih yang namanya ada di Daftar Pemilih Tetap cukup menunjukkan KTP-el di TPS."
        ),
        hours_to_verdict=9,
        escalations=(("komdigi", 1, "labelled", 6),),
    ),
    DemoCase(
        key="kip",
        platform="facebook",
        category="manipulated",
        url="https://www.facebook.com/share/v/1AbCdEfGhIj/",
        description="Video dipotong, seolah-olah kandidat mau hapus KIP Kuliah.",
        post=Post(
            app="Facebook",
            bar=(24, 119, 242),
            account="Suara Rakyat Bersatu",
            caption="Terbukti! Kandidat nomor 2 akan menghapus KIP Kuliah kalau menang.",
            sky=(90, 90, 110),
            ground=(150, 110, 90),
            seed=3,
        ),
        reporters=6,
        days_ago=95,
        outcome="published",
        label="DIMANIPULASI",
        claim="Kandidat nomor 2 akan menghapus KIP Kuliah",
        correction="Videonya dipotong: dalam pidato lengkap kandidat berkata akan "
        "menambah penerima KIP Kuliah, bukan menghapusnya.",
        explanation=(
            "Potongan 14 detik ini diambil dari pidato 40 menit yang disiarkan langsung. "
            "Kalimat sebelum dan sesudahnya dihilangkan, sehingga maknanya terbalik."
        ),
        hours_to_verdict=48,
        escalations=(("meta", 2, "restricted", 5),),
    ),
    DemoCase(
        key="saksi",
        platform="instagram",
        category="other",
        url="https://www.instagram.com/p/C1a2B3c4D5e/",
        description="Pendaftaran saksi TPS tapi harus bayar Rp 50.000 dulu.",
        post=Post(
            app="Instagram",
            bar=(193, 53, 132),
            account="@rekrutmen.saksi.tps",
            caption="Dibuka pendaftaran saksi TPS, honor Rp 500 ribu! Bayar biaya "
            "administrasi Rp 50.000 via link di bio.",
            sky=(250, 200, 120),
            ground=(230, 120, 80),
            seed=4,
        ),
        reporters=9,
        days_ago=70,
        outcome="published",
        label="PENIPUAN",
        claim="Pendaftaran saksi TPS berhonor Rp 500 ribu dengan biaya Rp 50.000",
        correction="Saksi TPS ditunjuk oleh peserta pemilu, tanpa biaya pendaftaran: "
        "akun itu menipu.",
        explanation=(
            "Saksi ditunjuk langsung oleh partai atau pasangan calon. Tidak ada pendaftaran "
            "terbuka yang memungut biaya. Rekening tujuan pembayaran milik perorangan."
        ),
        hours_to_verdict=6,
        escalations=(("meta", 0, "removed", 1),),
    ),
    DemoCase(
        key="survei",
        platform="x",
        category="false_claim",
        url="https://x.com/infopolitik_id/status/1750000000000000000",
        description="Katanya 90% anak muda golput, sumbernya tidak jelas.",
        post=Post(
            app="X",
            bar=(0, 0, 0),
            account="@infopolitik_id",
            caption="SURVEI: 90% anak muda tidak akan memilih di pemilu ini. Suara kalian "
            "tidak berarti!",
            sky=(30, 30, 40),
            ground=(80, 80, 100),
            seed=5,
        ),
        reporters=4,
        days_ago=40,
        outcome="published",
        label="MENYESATKAN",
        claim="Survei: 90% anak muda tidak akan memilih",
        correction="Survei yang dikutip bertanya tentang minat pada partai, bukan niat "
        "memilih; survei lain menunjukkan mayoritas anak muda berniat memilih.",
        explanation=(
            "Angka 90% berasal dari pertanyaan apakah responden merasa dekat dengan partai "
            "politik tertentu. Niat memilih ditanyakan terpisah, dan hasilnya jauh berbeda."
        ),
        hours_to_verdict=72,
    ),
    DemoCase(
        key="sembako",
        platform="whatsapp",
        category="money_politics",
        url=None,
        description="Ada foto bagi-bagi sembako pakai kaos partai, katanya di Bekasi.",
        post=Post(
            app="WhatsApp",
            bar=(7, 94, 84),
            account="Info Warga RW 05",
            caption="Lihat ini, bagi-bagi sembako pakai kaos partai. Lapor!",
            sky=(180, 200, 160),
            ground=(120, 90, 60),
            seed=6,
        ),
        reporters=2,
        days_ago=5,
        outcome="needs_info",
        question=(
            "Terima kasih! Kapan dan di mana foto ini diambil? Kalau kamu tahu siapa yang "
            "pertama mengirimnya ke grup, ceritakan juga."
        ),
    ),
    DemoCase(
        key="tps-pindah",
        platform="telegram",
        category="voting_info",
        url="https://t.me/beritapemilu_id/4521",
        description="Katanya TPS 12 Kelurahan Mekarsari dipindah ke balai desa.",
        post=None,
        reporters=3,
        days_ago=3,
        outcome="awaiting_approval",
        label="SALAH",
        claim="TPS 12 Kelurahan Mekarsari dipindah ke balai desa",
        correction="Lokasi TPS 12 tetap di SDN Mekarsari 2, sesuai pengumuman KPU kota.",
        explanation="KPU kota mengumumkan lokasi semua TPS; tidak ada perubahan untuk TPS 12.",
    ),
    DemoCase(
        key="kampanye-damai",
        platform="youtube",
        category="false_claim",
        url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        description="Video deklarasi kampanye damai, apa ini benar?",
        post=None,
        reporters=1,
        days_ago=30,
        outcome="not_hoax",
    ),
    DemoCase(
        key="promo",
        platform="website",
        category="other",
        url="https://promo-pulsa-gratis.example.com/",
        description="Pulsa gratis!!!",
        post=None,
        reporters=1,
        days_ago=20,
        outcome="rejected",
    ),
    DemoCase(
        key="kotak-suara",
        platform="facebook",
        category="false_claim",
        url="https://www.facebook.com/groups/123456789/posts/987654321/",
        description="Kotak suara di Desa Sukamaju katanya sudah dibuka sebelum hari H.",
        post=None,
        reporters=5,
        days_ago=1,
        outcome="new",
    ),
    DemoCase(
        key="ktp",
        platform="instagram",
        category="other",
        url="https://www.instagram.com/p/C9z8Y7x6W5v/",
        description="Akun mengaku KPU minta foto KTP untuk cek DPT.",
        post=None,
        reporters=2,
        days_ago=0,
        outcome="new",
    ),
)


def at(days_ago: float, now: datetime) -> datetime:
    return now - timedelta(days=days_ago)


def backdate(session: Session, *, case_id: int, first: datetime) -> None:
    """The demo's history: a case and its reports as if they came in from `first` on."""
    case_t, report_t = hoax_case_table, hoax_report_table
    session.execute(sa.update(case_t).where(case_t.c.id == case_id).values(created_at=first))
    session.execute(
        sa.update(report_t).where(report_t.c.case_id == case_id).values(created_at=first)
    )


def picture(case: DemoCase) -> bytes | None:
    return screenshot(case.post) if case.post is not None else None


# A correction approved on one published verdict, to show how a page tells it.
CORRECTED = "survei"
CORRECTION_NOTE = "Versi pertama menyebut survei dari lembaga yang salah; sumbernya kini benar."
# The reporter who left a contact and allowed moderators to write, on the case that asks.
CONTACT = "pelapor.demo@contoh.id"


@dataclass(frozen=True, slots=True)
class Moderators:
    """The two demo moderators: one proposes, the other approves."""

    proposer: ModeratorContext
    approver: ModeratorContext


def seed(session: Session, view: CampaignView, people: Moderators) -> bool:
    """Seed the demo's hoax cases once; False when the campaign already has reports."""
    if session.exec(select(HoaxReport.id).where(HoaxReport.campaign_id == view.id)).first():
        return False
    now = utcnow()
    for case in CASES:
        _seed_case(session, view, people, case, now)
    return True


def _seed_case(
    session: Session, view: CampaignView, people: Moderators, case: DemoCase, now: datetime
) -> None:
    """One hoax: reported (by several people), then taken as far as the demo says."""
    first = at(case.days_ago, now)
    report = hoaxes.submit(
        session,
        view=view,
        form=hoaxes.ReportForm(
            url=case.url or "",
            platform=case.platform,
            category=case.category,
            description=case.description,
            province="ID-JB",
            contact=CONTACT if case.outcome == "needs_info" else "",
            may_contact="on" if case.outcome == "needs_info" else "",
            consent="on",
            screenshot=picture(case),
        ),
        locale="id",
    )
    assert report is not None
    _more_reporters(session, report, case.reporters - 1, first)
    backdate(session, case_id=report.case_id, first=first)
    _move_months(session, view.id, reports=case.reporters, first=first, now=now)
    session.commit()
    _moderate(session, people, case, report.case_id, first)


def _more_reporters(session: Session, report: HoaxReport, count: int, first: datetime) -> None:
    """Other people who reported the same post: the same report, each with its own code."""
    case_t = hoax_case_table
    for n in range(count):
        session.add(
            HoaxReport(
                campaign_id=report.campaign_id,
                case_id=report.case_id,
                tracking_code=hoaxes.new_tracking_code(),
                url=report.url,
                canonical_url=report.canonical_url,
                platform=report.platform,
                category=report.category,
                description=report.description,
                province=report.province,
                media_id=report.media_id,
                match_text=report.match_text,
                joined_by="link" if report.url else "picture 1.00, text 1.00",
                locale="id",
                created_at=first + timedelta(hours=n + 1),
            )
        )
    session.execute(
        sa.update(case_t)
        .where(case_t.c.id == report.case_id)
        .values(report_count=case_t.c.report_count + count)
    )


def _move_months(
    session: Session, campaign_id: int, *, reports: int, first: datetime, now: datetime
) -> None:
    """The monthly counts follow the demo's history: its reports and case in their month (the
    one report sent through the site was counted now, the others not at all)."""
    for metric, number in ((months.REPORTS, reports), (months.CASES, 1)):
        months.count(session, campaign_id=campaign_id, metric=metric, moment=now, by=-1)
        months.count(session, campaign_id=campaign_id, metric=metric, moment=first, by=number)


def _moderate(
    session: Session, people: Moderators, case: DemoCase, case_id: int, first: datetime
) -> None:
    """The moderators' part: decided an hour after the first report, approved later."""
    decided = first + timedelta(hours=max(1, case.hours_to_verdict // 2))
    if case.outcome == "new":
        return
    moderation.claim(session, access=people.proposer, case_id=case_id, now=decided)
    moderation.decide(
        session,
        access=people.proposer,
        case_id=case_id,
        form=_decision(case),
        now=decided,
    )
    if case.outcome != "published":
        return
    published = first + timedelta(hours=case.hours_to_verdict)
    moderation.claim(session, access=people.approver, case_id=case_id, now=published)
    moderation.approve(
        session,
        access=people.approver,
        case_id=case_id,
        reason="Sumber dan bukti sudah diperiksa ulang.",
        now=published,
    )
    for target, after, outcome, took in case.escalations:
        _escalate(session, people, case_id, first, (target, after, outcome, took))
    if case.key == CORRECTED:
        _correct(session, people, case, case_id, published + timedelta(days=2))


DECISIONS = {
    "published": "hoax",
    "awaiting_approval": "hoax",
    "needs_info": "needs_info",
    "not_hoax": "not_hoax",
    "rejected": "rejected",
}
REASONS = {
    "hoax": "Diperiksa dengan pencarian gambar terbalik dan sumber resmi.",
    "needs_info": "Belum jelas kapan dan di mana foto diambil.",
    "not_hoax": "Video resmi dari kanal KPU; isinya benar.",
    "rejected": "Spam, bukan tentang pemilu.",
}


def _decision(case: DemoCase) -> moderation.DecisionForm:
    decision = DECISIONS[case.outcome]
    return moderation.DecisionForm(
        decision=decision,
        reason=REASONS[decision],
        label=case.label,
        public_title=case.claim,
        correction=case.correction,
        public_explanation=case.explanation,
        claim_author=case.claim_author,
        question=case.question,
    )


def _escalate(
    session: Session,
    people: Moderators,
    case_id: int,
    first: datetime,
    escalation: tuple[str, int, str, int],
) -> None:
    target, after, outcome, took = escalation
    reported = first + timedelta(days=after, hours=2)
    made = moderation.escalate(
        session,
        access=people.proposer,
        case_id=case_id,
        form=moderation.EscalationForm(
            target=target,
            reported_on=moderation.local_day(reported).isoformat(),
            reference=f"DEMO-{case_id}-{target.upper()}",
        ),
        now=reported,
    )
    answered = reported + timedelta(days=took)
    moderation.record_outcome(
        session,
        access=people.proposer,
        case_id=case_id,
        escalation_id=made.id or 0,
        form=moderation.OutcomeForm(
            outcome=outcome, outcome_on=moderation.local_day(answered).isoformat()
        ),
        now=answered,
    )


def _correct(
    session: Session, people: Moderators, case: DemoCase, case_id: int, when: datetime
) -> None:
    """A correction proposed by one moderator and approved by the other."""
    waiting = moderation.propose_correction(
        session,
        access=people.proposer,
        case_id=case_id,
        form=moderation.CorrectionForm(
            label=case.label,
            public_title=case.claim,
            correction=case.correction,
            public_explanation=case.explanation
            + "\n\nSumber survei: Lembaga Survei Pemuda Nusantara, 2024.",
            note=CORRECTION_NOTE,
            reason="Sumber survei yang benar ditemukan.",
        ),
        now=when,
    )
    moderation.approve_correction(
        session,
        access=people.approver,
        case_id=case_id,
        correction_id=waiting.id or 0,
        reason="Sumbernya sudah dicek.",
        now=when + timedelta(hours=3),
    )
