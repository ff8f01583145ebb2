"""API keys in the admin: create (the key shown once, on the page that answers the form),
revoke (an action; effective on the next request), list. Keys are never edited into
something else or deleted: a revoked row stays, for the audit trail and ``api_key list``."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone

from smplat.api.models import ApiKey, Scope
from smplat.api.services import api_key_create, api_key_revoke
from smplat.audit.services import request_address


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=True
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "expires_at", "ingest_rate_per_minute"]
        # Django's date and time widget prints no zone; every date on these pages is UTC.
        help_texts = {"expires_at": "Date and time in UTC. Leave both empty: never expires."}

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("The expiry must be in the future.")
        return expires_at


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "shown_prefix", "scope_list", "state", "expires_at", "last_used_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    actions = ["revoke_selected"]
    readonly_fields = [
        "name",
        "shown_prefix",
        "scope_list",
        "state",
        "created_at",
        "created_by",
        "expires_at",
        "ingest_rate_per_minute",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]

    @admin.display(description="prefix")
    def shown_prefix(self, key: ApiKey) -> str:
        return f"smplat_{key.prefix}…"

    @admin.display(description="scopes")
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ApiKeyCreateForm.Meta.fields
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return  # nothing on a key is edited after creation
        data = form.cleaned_data
        # The form validated the name, the scopes and the unique-while-active constraint.
        created = api_key_create(
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data.get("expires_at"),
            ingest_rate_per_minute=data.get("ingest_rate_per_minute"),
            created_by=request.user,
            address=request_address(request),
        )
        obj.pk = created.key.pk
        obj.__dict__.update(
            {f.attname: getattr(created.key, f.attname) for f in ApiKey._meta.concrete_fields}
        )
        request._created_api_key = created.plaintext

    def response_add(self, request, obj, post_url_continue=None):
        """The key, once: rendered into this answer, never stored, never in a cookie."""
        response = TemplateResponse(
            request,
            "admin/api/apikey/created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "key": obj,
                "plaintext": request._created_api_key,
                "title": f"API key {obj.name} created",
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_selected(self, request, queryset) -> None:
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(
                name_or_prefix=key.prefix, actor=request.user, address=request_address(request)
            )
            revoked += 1
        self.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)
