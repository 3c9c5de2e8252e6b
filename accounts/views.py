from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from didportal.redirects import safe_redirect_target

from . import selectors, services, verification
from .forms import (
    AccountIdentityForm,
    BrandedPasswordResetForm,
    CustomerCreateForm,
    CustomerListQuery,
    SignupForm,
    TeamMemberEditForm,
    TeamMemberForm,
)
from .models import Account
from .permissions import (
    administers_customers,
    allow,
    customer_rights,
    is_portal_user,
    manages_customers,
    manages_team,
)
from .scoping import get_scoped_or_404
from .throttles import Throttled, client_ip, password_reset_allow


def form_errors_to(form, exc: ValidationError):
    """Attach a service's ValidationError to the form (field errors where it names a field)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def signup(request, code=None):
    """Self-service sign-up: a direct customer of the platform; a reseller's customer when
    it comes through the reseller's sign-up link or on one of the reseller's host names."""
    parent = None
    host_reseller_id = getattr(request, "host_reseller_id", None)
    if code is not None:
        parent = get_object_or_404(
            Account, kind=Account.Kind.RESELLER, signup_code=code, status=Account.Status.ACTIVE
        )
        if host_reseller_id is not None and parent.pk != host_reseller_id:
            raise Http404("This sign-up link belongs to another address.")
    elif host_reseller_id is not None:
        parent = get_object_or_404(
            Account, pk=host_reseller_id, kind=Account.Kind.RESELLER, status=Account.Status.ACTIVE
        )
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.customer_signup(
                parent=parent, ip_address=client_ip(request), **form.cleaned_data
            )
        except Throttled as exc:
            form.add_error(None, str(exc))
            status = 429
        except ValidationError as exc:
            form_errors_to(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                f"Welcome! Your account {user.account} is ready. We sent a link to "
                f"{user.email}: open it to confirm your address before you buy numbers.",
            )
            return redirect(safe_redirect_target(request, request.GET.get("next"), "dashboard"))
    context = {"form": form, "reseller": parent}
    return render(request, "accounts/signup.html", context, status=status)


def verify_email(request, token):
    """The link from the verification e-mail (GET: mail clients open links)."""
    try:
        user = verification.email_verify(token=token)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Thank you: {user.email} is confirmed.")
    return redirect("dashboard" if request.user.is_authenticated else "accounts:login")


@require_POST
@allow(is_portal_user)
def verify_email_resend(request):
    try:
        verification.email_verification_send(user=request.user)
    except (Throttled, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"We sent a new confirmation link to {request.user.email}.")
    back = request.POST.get("next")
    return redirect(safe_redirect_target(request, back, "dashboard"))


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, throttled per address and per IP before any e-mail is sent."""

    template_name = "accounts/password_reset.html"
    form_class = BrandedPasswordResetForm
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        try:
            password_reset_allow(
                email=form.cleaned_data["email"], ip_address=client_ip(self.request)
            )
        except Throttled as exc:
            form.add_error(None, str(exc))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


@allow(manages_customers)
def customer_list(request):
    query = CustomerListQuery(request.GET).values()
    search, kind = query["q"], query["kind"]
    accounts = selectors.customer_accounts_for(request.user, search=search, kind=kind)
    page = Paginator(accounts, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/customer_list.html",
        {
            "page": page,
            "q": search,
            "kind": kind,
            "can_create": administers_customers(request.user),
        },
    )


@allow(administers_customers)
def customer_create(request):
    form = CustomerCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.customer_create(parent=request.user.account, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_to(form, exc)
        else:
            messages.success(request, f"Customer created; an invitation went to {user.email}.")
            return redirect("accounts:customer_detail", pk=user.account_id)
    return render(request, "accounts/form_page.html", {"form": form, "title": "New customer"})


@allow(manages_customers)
def customer_detail(request, pk):
    account = get_scoped_or_404(
        Account.objects.exclude(pk=request.user.account_id).select_related("parent"),
        request.user,
        pk=pk,
    )
    return render(
        request,
        "accounts/customer_detail.html",
        {
            "customer": account,
            "users": account.users.order_by("email"),
            "children": account.children.order_by("name") if account.is_reseller else None,
            "can_change_status": administers_customers(request.user),
            "rights": customer_rights(request.user, account),
        },
    )


@require_POST
@allow(administers_customers)
def customer_set_status(request, pk):
    account = get_scoped_or_404(
        Account.objects.exclude(pk=request.user.account_id), request.user, pk=pk
    )
    status = request.POST.get("status", "")
    try:
        services.account_set_status(account=account, status=status, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{account} is now {account.get_status_display().lower()}.")
    return redirect("accounts:customer_detail", pk=account.pk)


@allow(is_portal_user)
def account_settings(request):
    account = request.user.account
    can_edit = manages_team(request.user)
    form = AccountIdentityForm(request.POST or None, instance=account)
    if request.method == "POST" and can_edit and form.is_valid():
        try:
            services.account_update_identity(account=account, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_to(form, exc)
        else:
            messages.success(request, "Billing details saved.")
            return redirect("accounts:settings")
    return render(request, "accounts/settings.html", {"form": form, "can_edit": can_edit})


@allow(manages_team)
def team_list(request):
    return render(request, "accounts/team_list.html", {"members": selectors.team_for(request.user)})


@allow(manages_team)
def team_add(request):
    account = request.user.account
    form = TeamMemberForm(request.POST or None, account_kind=account.kind)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_invite(account=account, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_to(form, exc)
        else:
            messages.success(request, f"{user.email} was invited and will choose a password.")
            return redirect("accounts:team")
    return render(request, "accounts/form_page.html", {"form": form, "title": "Add a user"})


@allow(manages_team)
def team_edit(request, pk):
    member = get_object_or_404(selectors.team_for(request.user), pk=pk)
    form = TeamMemberEditForm(
        request.POST or None,
        account_kind=member.account.kind,
        initial={
            "full_name": member.full_name,
            "role": member.role,
            "may_buy": member.may_buy,
            "is_active": member.is_active,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(user=member, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_to(form, exc)
        else:
            messages.success(request, f"{member.email} updated.")
            return redirect("accounts:team")
    return render(
        request, "accounts/form_page.html", {"form": form, "title": f"Edit {member.email}"}
    )
