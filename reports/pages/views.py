"""/admin/reports/: export health, the quick-order funnel against its export, follow-ups."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.messages.storage.base import Message
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from exports import health as feed_health_rules
from exports import trigger
from exports.models import Feed
from reports import selectors, services
from reports.models import LINK_VALIDATOR, GuardrailFollowUp
from reports.pages import health
from reports.pages.comparison import funnel_comparison
from reports.pages.paging import TwoWayPage, newest_first_page
from reports.rows import FOLLOW_UP_COLUMNS, follow_up_row
from smplat.audit.services import audit_request
from smplat.cursors import InvalidCursor, parse_cursor
from telemetry.selectors import quick_order_funnel

PAGE_PERMISSIONS = ("exports.view_exportrun", "reports.view_guardrailfollowup")
RUN_PERMISSION = health.RUN_PERMISSION
RECORD_PERMISSION = "reports.add_guardrailfollowup"
BADGE_ROTATE_PERMISSION = health.BADGE_ROTATE_PERMISSION
TIMELINE_PAGE = 25
FOLLOW_UP_MESSAGE_TAG = "follow-up"


def _require(request, *permissions: str) -> None:
    if not request.user.has_perms(permissions):
        raise PermissionDenied


def _card_feed(feed: str) -> str:
    if feed not in health.card_feed_names():
        raise Http404("No such export feed.")
    return feed


def _page_cursor(value: str):
    if not value:
        return None
    try:
        return parse_cursor(value)
    except InvalidCursor as exc:
        raise forms.ValidationError("That page link is broken; start from the newest.") from exc


class TimelineFilterForm(forms.Form):
    provider = forms.CharField(
        required=False,
        max_length=200,
        help_text="The start of a provider's name or id, in any case.",
    )
    action = forms.ChoiceField(
        required=False, choices=[("", "All actions"), *GuardrailFollowUp.Action.choices]
    )
    before = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    after = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def clean_before(self):
        return _page_cursor(self.cleaned_data["before"])

    def clean_after(self):
        return _page_cursor(self.cleaned_data["after"])

    def error_messages(self) -> list[str]:
        """One message per problem, each naming what it is about (two page links, or a page
        link and an action, used to run together in one sentence)."""
        labels = {"provider": "Provider", "action": "Action", "before": None, "after": None}
        messages_ = []
        for name, errors in self.errors.items():
            for error in errors:
                label = labels.get(name)
                messages_.append(f"{label}: {error}" if label else error)
        return list(dict.fromkeys(messages_))  # before and after can break the same way


class WebLinkField(forms.URLField):
    """An http(s) address (one error for a bad one, not URLField's and ours)."""

    default_validators = [LINK_VALIDATOR]


class FollowUpForm(forms.Form):
    provider_id = forms.CharField(label="Provider id", max_length=200)
    provider_name = forms.CharField(label="Provider name", max_length=200)
    action = forms.ChoiceField(choices=GuardrailFollowUp.Action.choices)
    notes = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    platform_context_id = forms.CharField(label="Platform", required=False, max_length=200)
    platform_context_label = forms.CharField(label="Platform label", required=False, max_length=200)
    platform_context_handle = forms.CharField(label="Handle", required=False, max_length=200)
    platform_context_type = forms.CharField(label="Platform type", required=False, max_length=100)
    conversion_cursor = forms.CharField(
        label="Conversion cursor",
        required=False,
        max_length=500,
        help_text="Empty means the live conversion snapshot.",
    )
    conversion_href = WebLinkField(
        label="Conversion link", required=False, max_length=2000, assume_scheme="https"
    )


def _timeline(filters: TimelineFilterForm) -> TwoWayPage:
    filters.is_valid()
    # The fields that are valid still apply: a broken page link keeps the provider filter.
    query = getattr(filters, "cleaned_data", {})
    page = newest_first_page(
        selectors.follow_ups_matching(
            provider=query.get("provider") or None, action=query.get("action") or None
        ),
        before=query.get("before"),
        after=query.get("after"),
        limit=TIMELINE_PAGE,
        timestamp_field="created_at",
        columns=FOLLOW_UP_COLUMNS,
    )
    page.rows = [follow_up_row(row) for row in page.rows]
    return page


def _page_context(request, *, follow_up_form: FollowUpForm | None = None) -> dict:
    filters = TimelineFilterForm(request.GET or None)
    timeline = _timeline(filters)
    cards = health.feed_cards()
    quick_order_card = next(c for c in cards if c.feed == Feed.QUICK_ORDER_TELEMETRY)
    # The quick-order card's health read the local funnel for its drift check: the same figures.
    funnel = quick_order_card.health.local_metrics or quick_order_funnel()
    # A follow-up's "Recorded" message shows above the timeline, where the redirect lands.
    stored = list(messages.get_messages(request))
    for card in cards:
        card.messages = health.card_messages_of(stored, card.feed)
    return {
        **admin.site.each_context(request),
        "title": "Export health & follow-ups",
        "page_messages": [
            m
            for m in stored
            if FOLLOW_UP_MESSAGE_TAG not in (m.extra_tags or "")
            and not (m.extra_tags or "").startswith(health.CARD_MESSAGE_TAG)
        ],
        "follow_up_messages": [m for m in stored if FOLLOW_UP_MESSAGE_TAG in (m.extra_tags or "")],
        "cards": cards,
        "funnel": funnel,
        "comparison": funnel_comparison(funnel, quick_order_card),
        "quick_order_card": quick_order_card,
        "filters": filters,
        "providers": selectors.follow_up_providers(),
        "timeline": timeline,
        "follow_up_form": follow_up_form or FollowUpForm(),
        "can_record": request.user.has_perm(RECORD_PERMISSION),
        **health.card_context(request),
    }


@require_GET
def reports_page(request):
    _require(request, *PAGE_PERMISSIONS)
    return render(request, "reports/reports.html", _page_context(request))


@require_POST
def follow_up_create(request):
    _require(request, *PAGE_PERMISSIONS, RECORD_PERMISSION)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        context = _page_context(request, follow_up_form=form)
        return render(request, "reports/reports.html", context, status=400)
    data = form.cleaned_data
    follow_up = services.follow_up_record(
        provider_id=data["provider_id"],
        provider_name=data["provider_name"],
        action=data["action"],
        notes=data["notes"],
        platform_context={
            "id": data["platform_context_id"] or None,
            "label": data["platform_context_label"] or None,
            "handle": data["platform_context_handle"] or None,
            "type": data["platform_context_type"] or None,
        },
        conversion_cursor=data["conversion_cursor"] or None,
        conversion_href=data["conversion_href"] or None,
    )
    audit_request(
        request,
        action="follow_up.record",
        target=f"follow_up:{follow_up.pk}",
        details={"providerId": follow_up.provider_id, "action": follow_up.action},
    )
    # Shown at the top of the timeline, where the redirect lands and the new row is first,
    # not in the admin's message list at the top of the page (FOLLOW_UP_MESSAGE_TAG).
    messages.success(
        request,
        f"Recorded: {follow_up.get_action_display()} for {follow_up.provider_name}.",
        extra_tags=FOLLOW_UP_MESSAGE_TAG,
    )
    return redirect(reverse("reports") + "#follow-ups")


def _render_card(
    request, feed: str, *, refresh: bool = False, status: int = 200, note: Message | None = None
):
    """One card's HTML; ``note`` is what the action that asked for it said, shown in it."""
    [card] = health.feed_cards([feed], refresh=refresh)
    card.messages = [note] if note else []
    response = render(
        request,
        "reports/snippets/export_card.html",
        {
            "card": card,
            **health.card_context(request),
        },
        status=status,
    )
    # For the poll: the state without parsing the HTML (also the card's data-state).
    response["X-Feed-State"] = card.state
    return response


@require_GET
def feed_card(request, feed: str):
    """One card's HTML, for the page's live refresh while a run is queued or running."""
    _require(request, *PAGE_PERMISSIONS)
    return _render_card(request, _card_feed(feed))


@require_POST
def run_now(request, feed: str):
    """ "Run export now": dispatch the workflow or queue a run; a double click starts one."""
    _require(request, *PAGE_PERMISSIONS, RUN_PERMISSION)
    feed = _card_feed(feed)
    wants_fragment = request.headers.get("X-Requested-With") == "fetch"
    try:
        result = trigger.export_run_now(feed=feed, requested_by=request.user)
    except (trigger.TriggerFailed, trigger.NotConfigured) as exc:
        note = Message(messages.ERROR, f"Could not start the {Feed(feed).label} export: {exc}.")
        code = 409 if isinstance(exc, trigger.NotConfigured) else 502
        return _card_answer(request, feed, note, wants_fragment, status=code)
    health.forget_status(feed)
    audit_request(
        request,
        action="export.run_now",
        target=f"feed:{feed}",
        details={"runId": result.run.pk, "outcome": result.run.outcome, "created": result.created},
    )
    if result.created:
        note = Message(
            messages.SUCCESS,
            f"{Feed(feed).label}: export {result.run.get_outcome_display().lower()}.",
        )
    else:
        note = Message(
            messages.INFO,
            f"{Feed(feed).label}: a run is already {result.run.outcome}; not starting another.",
        )
    return _card_answer(request, feed, note, wants_fragment)


def _card_answer(request, feed: str, note: Message, fragment: bool, *, status: int = 200):
    """The card itself for the page's fetch, with ``note`` in it; else a redirect to the
    card, where the note waits in the message store."""
    if fragment:
        return _render_card(request, feed, status=status, note=note)
    health.card_message(request, note.level, feed, note.message)
    return redirect(reverse("reports") + f"#card-{feed}")


@require_POST
def badge_key_rotate(request, feed: str):
    """A new badge key for the feed: the old badge URLs answer 404 from now on."""
    _require(request, *PAGE_PERMISSIONS, BADGE_ROTATE_PERMISSION)
    feed = _card_feed(feed)
    feed_health_rules.badge_key_rotate(feed=feed)
    health.card_message(
        request,
        messages.SUCCESS,
        feed,
        f"{Feed(feed).label}: new badge URLs; the old ones no longer work.",
    )
    return redirect(reverse("reports") + f"#card-{feed}")
