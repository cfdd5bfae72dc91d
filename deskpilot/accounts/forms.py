"""Sign-in forms."""

from __future__ import annotations

from django import forms

from deskpilot.core.forms import PageForm


class SignInForm(PageForm):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class SignInLinkForm(PageForm):
    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="We email you a link that signs you in once, without a password.",
    )
