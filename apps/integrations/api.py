"""Keyhouse extension: integration accounts (docs/INTEGRATIONS.md, docs/API.md "Integrations").

No property in the paths: lists are narrowed to the caller's properties, a create names its
property in the body (checked against the caller's grants), and an account outside the
caller's reach is a 404 like any other object."""

from django.db.models import Prefetch
from rest_framework.response import Response

from apps.core.api.pagination import PageTokenPagination
from apps.core.api.permissions import operation
from apps.core.api.schema import filter_parameters
from apps.core.api.views import ApiView, or_404
from apps.core.exceptions import ApplicationError
from apps.core.principal import ALL
from apps.integrations import selectors, services
from apps.integrations.filters import IntegrationAccountFilterSet, LocktRecordFilterSet
from apps.integrations.lockt.credentials import lockt_fob_reassign
from apps.integrations.lockt.marks import lockt_mark_clear, lockt_mark_set
from apps.integrations.models import SyncRun
from apps.integrations.serializers import (
    IntegrationAccountCreateSerializer,
    IntegrationAccountSerializer,
    IntegrationAccountUpdateSerializer,
    LocktFobReassignSerializer,
    LocktMarkCreateSerializer,
    LocktMarkSerializer,
    LocktRecordSerializer,
    SmartphoneKeyPushSerializer,
    SyncRunSerializer,
)
from apps.properties import selectors as property_selectors

TAGS = ["integrations"]
FIELDS = {
    "displayName": "display_name",
    "baseUrl": "base_url",
    "pollIntervalSeconds": "poll_interval_seconds",
    "timeZone": "time_zone",
}


def _with_last_run(accounts):
    latest = SyncRun.objects.order_by("-started_at", "-id")[:1]
    return accounts.prefetch_related(Prefetch("sync_runs", queryset=latest, to_attr="latest_runs"))


class NewestFirstPagination(PageTokenPagination):
    ordering = "-id"  # UUIDv7: newest run first


class _AccountApi(ApiView):
    def account_or_404(self, account_id):
        """The account, if its property is in the caller's reach for this operation."""
        scope = self.property_scope()
        accounts = selectors.integration_account_list(property_ids=scope).filter(pk=account_id)
        return or_404(_with_last_run(accounts).first())


class IntegrationAccountListCreateApi(_AccountApi):
    page_items_key = "accounts"

    @operation(
        "listIntegrationAccounts",
        responses=IntegrationAccountSerializer(many=True),
        parameters=filter_parameters(IntegrationAccountFilterSet),
        tags=TAGS,
    )
    def get(self, request):
        accounts = selectors.integration_account_list(property_ids=self.property_scope())
        return self.paginated(
            self.filtered(IntegrationAccountFilterSet, _with_last_run(accounts)), IntegrationAccountSerializer
        )

    @operation(
        "createIntegrationAccount",
        request=IntegrationAccountCreateSerializer,
        responses=IntegrationAccountSerializer,
        errors={409: "the property already has an account of this kind with this name"},
        tags=TAGS,
    )
    def post(self, request):
        """Link a remote account to a property; it is polled within a minute."""
        body = self.body(IntegrationAccountCreateSerializer)
        scope = self.property_scope()
        prop = None
        if scope is ALL or body["propertyId"] in scope:
            prop = property_selectors.property_get(property_id=body["propertyId"])
        if prop is None:
            raise ApplicationError("propertyId: Unknown property.", fields={"propertyId": ["Unknown property."]})
        account = services.integration_account_create(
            prop=prop,
            kind=body["kind"],
            display_name=body["displayName"],
            base_url=body.get("baseUrl"),
            credentials=body["credentials"],
            poll_interval_seconds=body.get("pollIntervalSeconds"),
            time_zone=body.get("timeZone"),
            actor=request.user.label,
        )
        return Response(IntegrationAccountSerializer(self.account_or_404(account.pk)).data)


class IntegrationAccountDetailApi(_AccountApi):
    @operation("getIntegrationAccount", responses=IntegrationAccountSerializer, tags=TAGS)
    def get(self, request, accountId):
        return Response(IntegrationAccountSerializer(self.account_or_404(accountId)).data)

    @operation(
        "updateIntegrationAccount",
        request=IntegrationAccountUpdateSerializer,
        responses=IntegrationAccountSerializer,
        errors={409: "the property already has an account of this kind with this name"},
        tags=TAGS,
    )
    def patch(self, request, accountId):
        account = self.account_or_404(accountId)
        body = self.body(IntegrationAccountUpdateSerializer)
        changes = {FIELDS.get(name, name): value for name, value in body.items()}
        services.integration_account_update(account=account, actor=request.user.label, **changes)
        return Response(IntegrationAccountSerializer(self.account_or_404(accountId)).data)

    @operation("deleteIntegrationAccount", responses=None, tags=TAGS)
    def delete(self, request, accountId):
        """Unlink the account: its credentials, runs and links go; what it brought in stays."""
        services.integration_account_delete(account=self.account_or_404(accountId), actor=request.user.label)
        return Response({})


class IntegrationAccountPollApi(_AccountApi):
    @operation(
        "pollIntegrationAccount",
        request=None,
        responses={202: IntegrationAccountSerializer},
        tags=TAGS,
    )
    def post(self, request, accountId):
        """Poll now: enqueued (202); follow it in `lastRun` or the account's runs."""
        account = services.integration_account_poll_request(
            account=self.account_or_404(accountId), actor=request.user.label
        )
        return Response(IntegrationAccountSerializer(self.account_or_404(account.pk)).data, status=202)


class IntegrationSyncRunListApi(_AccountApi):
    page_items_key = "syncRuns"
    pagination_class = NewestFirstPagination

    @operation("listIntegrationSyncRuns", responses=SyncRunSerializer(many=True), tags=TAGS)
    def get(self, request, accountId):
        account = self.account_or_404(accountId)
        return self.paginated(selectors.sync_run_list(account=account), SyncRunSerializer)


class IntegrationPushListApi(_AccountApi):
    """A SmartphoneKey account's grant pushes, newest first (empty for other kinds)."""

    page_items_key = "pushes"
    pagination_class = NewestFirstPagination

    @operation("listIntegrationPushes", responses=SmartphoneKeyPushSerializer(many=True), tags=TAGS)
    def get(self, request, accountId):
        account = self.account_or_404(accountId)
        return self.paginated(selectors.smartphonekey_push_list(account=account), SmartphoneKeyPushSerializer)


class IntegrationRecordListApi(_AccountApi):
    """A Lockt account's records as its polls saw them (empty for other kinds): each linked
    Keyhouse object and its owner, credentials and fobs (card numbers masked to the last 4
    digits), and the failed ones with field, value and reason."""

    page_items_key = "records"

    @operation(
        "listIntegrationRecords",
        responses=LocktRecordSerializer(many=True),
        parameters=filter_parameters(LocktRecordFilterSet),
        tags=TAGS,
    )
    def get(self, request, accountId):
        account = self.account_or_404(accountId)
        records = selectors.lockt_record_list(account=account)
        return self.paginated(self.filtered(LocktRecordFilterSet, records), LocktRecordSerializer)


class LocktFobReassignApi(_AccountApi):
    @operation(
        "reassignLocktFob",
        request=LocktFobReassignSerializer,
        responses={202: LocktRecordSerializer},
        tags=TAGS,
    )
    def post(self, request, accountId, recordId):
        """Move a Lockt fob to another person (or nobody): Keyhouse keeps it and pushes
        `PUT /fob` at the poll it requests (202; `credential.reassignPending` until then)."""
        account = self.account_or_404(accountId)
        record = or_404(selectors.lockt_record_list(account=account).filter(pk=recordId, kind="fob").first())
        holder_id = self.body(LocktFobReassignSerializer)["holderId"]
        holder = None
        if holder_id is not None:
            holder = selectors.lockt_account_person(account=account, user_id=holder_id)
            if holder is None:
                message = "Not a person linked to a Lockt user of this account."
                raise ApplicationError(f"holderId: {message}", fields={"holderId": [message]})
        lockt_fob_reassign(credential=record.credential, holder=holder, actor=request.user.label)
        updated = selectors.lockt_record_list(account=account).get(pk=record.pk)
        return Response(LocktRecordSerializer(updated).data, status=202)


class LocktMarkListCreateApi(_AccountApi):
    """Groups and locks marked for a Lockt account (docs/INTEGRATIONS.md "Lockt push")."""

    page_items_key = "marks"

    @operation("listLocktMarks", responses=LocktMarkSerializer(many=True), tags=TAGS)
    def get(self, request, accountId):
        account = self.account_or_404(accountId)
        return self.paginated(selectors.lockt_mark_list(account=account), LocktMarkSerializer)

    @operation(
        "createLocktMark",
        request=LocktMarkCreateSerializer,
        responses={202: LocktMarkSerializer},
        tags=TAGS,
    )
    def post(self, request, accountId):
        """Mark a Keyhouse custom group or lock for Lockt: the poll it requests pushes it (202;
        `state` pending until then). Marking again is a no-op."""
        account = self.account_or_404(accountId)
        body = self.body(LocktMarkCreateSerializer)
        group = lock = None
        if "groupId" in body:
            group = selectors.lockt_markable_group(account=account, group_id=body["groupId"])
            if group is None:
                _no_such("groupId", f"No such group in {account.property.display_name}.")
        else:
            lock = selectors.lockt_markable_lock(account=account, lock_id=body["lockId"])
            if lock is None:
                _no_such("lockId", f"No such lock in {account.property.display_name}.")
        mark = lockt_mark_set(account=account, group=group, lock=lock, actor=request.user.label)
        return Response(LocktMarkSerializer(mark).data, status=202)  # as marked (the poll may have run since)


class LocktMarkDetailApi(_AccountApi):
    @operation("deleteLocktMark", request=None, responses={202: LocktMarkSerializer}, tags=TAGS)
    def delete(self, request, accountId, markId):
        """Unmark: Lockt's copy is deleted at the poll this requests (202, `state` removing);
        a mark never pushed goes at once (202, `data` empty). The Keyhouse object stays."""
        account = self.account_or_404(accountId)
        mark = or_404(selectors.lockt_mark_list(account=account).filter(pk=markId).first())
        mark = lockt_mark_clear(mark=mark, actor=request.user.label)
        if mark is None:
            return Response({}, status=202)
        return Response(LocktMarkSerializer(mark).data, status=202)  # as unmarked (the poll may have run since)


def _no_such(field: str, message: str):
    raise ApplicationError(f"{field}: {message}", fields={field: [message]})
