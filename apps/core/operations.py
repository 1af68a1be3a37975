"""The one map from operationId to who may call it and what scope is checked (docs/API.md).

Permissions are the spec's UserPermission values plus two caller kinds that are not
grantable (`lock`: a lock authenticating with its own key; `device`: a provisioned user
device). Scopes:

- `global`   the grant must be unscoped (no propertyId, no userId).
- `any`      a grant at any scope lets the call in; the view narrows what it returns or
             touches with `Principal.property_ids_for` (list endpoints, firmware targets).
- `property` the `propertyId` in the path must be covered; otherwise 404.
- `user`     the `userId` in the path must be covered (a `me` grant covers only yourself;
             property-scoped grants reach users who belong to a group of that property,
             checked by the user selector); otherwise 404.
- `self`     the caller itself (`getMe`, signing out).
- `object`   the view loads the object (lock, event, api key) through a scoped selector and
             checks the object's property; otherwise 404.
- `public`   no credential (sign-in).
- `portal`   the resident portal's own check (apps.portal.api): a unit token or a signed-in
             unit user of a unit at the path's property; otherwise 404 (docs/PORTAL.md).

Missing the permission entirely is 403; holding it but not for that object is 404, so a
key for property A cannot even learn that property B's objects exist.
"""

from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    GLOBAL = "global"
    ANY = "any"
    PROPERTY = "property"
    USER = "user"
    SELF = "self"
    OBJECT = "object"
    PUBLIC = "public"
    PORTAL = "portal"


OWNER = "owner"
ME = "me"
PROVISION_LOCK = "provision-lock"
INSTALL_LOCK = "install-lock"
MANAGE_ACCESS = "manage-access"
MANAGE_FIRMWARE = "manage-firmware"
SUPPORT = "support"
LOCK = "lock"
DEVICE = "device"
RESIDENT = "resident"  # a unit's portal token or a signed-in unit user (docs/PORTAL.md)

GRANTABLE_PERMISSIONS = (ME, OWNER, PROVISION_LOCK, INSTALL_LOCK, MANAGE_ACCESS, MANAGE_FIRMWARE, SUPPORT)


@dataclass(frozen=True)
class OperationRule:
    permissions: frozenset[str]
    scope: Scope
    spec: bool = True  # False for Keyhouse extensions (not among the spec's 47)


def rule(scope: Scope, *permissions: str, spec: bool = True) -> OperationRule:
    return OperationRule(frozenset(permissions), scope, spec)


_READ_PLACES = (OWNER, MANAGE_ACCESS, INSTALL_LOCK, SUPPORT, ME)
_READ_GROUPS = (OWNER, MANAGE_ACCESS, SUPPORT)
_WRITE_GROUPS = (OWNER, MANAGE_ACCESS)
_READ_USERS = (OWNER, MANAGE_ACCESS, SUPPORT, ME)
_READ_LOCKS = (OWNER, PROVISION_LOCK, INSTALL_LOCK, MANAGE_ACCESS, SUPPORT)

OPERATIONS: dict[str, OperationRule] = {
    # Properties
    "listProperties": rule(Scope.ANY, *_READ_PLACES),
    "createProperty": rule(Scope.GLOBAL, OWNER),
    "getProperty": rule(Scope.PROPERTY, *_READ_PLACES),
    "updateProperty": rule(Scope.PROPERTY, OWNER),
    "deleteProperty": rule(Scope.PROPERTY, OWNER),
    # Areas
    "listAreas": rule(Scope.PROPERTY, *_READ_PLACES),
    "createArea": rule(Scope.PROPERTY, OWNER),
    "getArea": rule(Scope.PROPERTY, *_READ_PLACES),
    "updateArea": rule(Scope.PROPERTY, OWNER),
    "deleteArea": rule(Scope.PROPERTY, OWNER),
    # User groups and membership
    "listUserGroups": rule(Scope.PROPERTY, *_READ_GROUPS),
    "createUserGroup": rule(Scope.PROPERTY, *_WRITE_GROUPS),
    "getUserGroup": rule(Scope.PROPERTY, *_READ_GROUPS),
    "updateUserGroup": rule(Scope.PROPERTY, *_WRITE_GROUPS),
    "deleteUserGroup": rule(Scope.PROPERTY, *_WRITE_GROUPS),
    "listUsersForGroup": rule(Scope.PROPERTY, *_READ_GROUPS),
    "addUserToUserGroup": rule(Scope.PROPERTY, *_WRITE_GROUPS),
    "removeUserFromUserGroup": rule(Scope.PROPERTY, *_WRITE_GROUPS),
    "listGroupsForUser": rule(Scope.USER, *_READ_USERS),
    "listGroupsForUserAtProperty": rule(Scope.PROPERTY, *_READ_USERS),
    # Users
    "getMe": rule(Scope.SELF, ME),
    "createUser": rule(Scope.ANY, OWNER, MANAGE_ACCESS),
    "getUser": rule(Scope.USER, *_READ_USERS),
    "updateUser": rule(Scope.USER, OWNER, MANAGE_ACCESS, ME),
    "deleteUser": rule(Scope.USER, OWNER),
    # User devices
    "listUserDevices": rule(Scope.USER, *_READ_USERS),
    "provisionUserDevice": rule(Scope.USER, ME),
    "getUserDevice": rule(Scope.USER, *_READ_USERS, DEVICE),
    "updateUserDevice": rule(Scope.USER, OWNER, MANAGE_ACCESS, ME, DEVICE),
    "deprovisionUserDevice": rule(Scope.USER, OWNER, MANAGE_ACCESS, ME),
    "syncUserDevice": rule(Scope.USER, ME, DEVICE),
    # Locks and access logs
    "listLocks": rule(Scope.ANY, *_READ_LOCKS),
    # An owner manages its own property's locks: it may provision and deprovision them as it may
    # grant provision-lock within its scope (docs/API.md "Permissions and scope").
    "provisionLock": rule(Scope.ANY, OWNER, PROVISION_LOCK),
    "getLock": rule(Scope.OBJECT, *_READ_LOCKS, ME, LOCK),
    "updateLock": rule(Scope.OBJECT, OWNER, INSTALL_LOCK, MANAGE_ACCESS),
    "deprovisionLock": rule(Scope.OBJECT, OWNER, PROVISION_LOCK),
    "installLock": rule(Scope.PROPERTY, OWNER, INSTALL_LOCK),
    "uninstallLock": rule(Scope.OBJECT, OWNER, INSTALL_LOCK),
    "syncLock": rule(Scope.OBJECT, LOCK),
    "listLockAccessLogs": rule(Scope.OBJECT, OWNER, MANAGE_ACCESS, SUPPORT),
    "getLockHealth": rule(Scope.OBJECT, OWNER, MANAGE_ACCESS, SUPPORT, spec=False),
    "listPropertyLockHealth": rule(Scope.PROPERTY, OWNER, MANAGE_ACCESS, SUPPORT, spec=False),
    # Firmware
    "uploadFirmwareVersion": rule(Scope.GLOBAL, MANAGE_FIRMWARE),
    "getFirmwareVersion": rule(Scope.ANY, MANAGE_FIRMWARE, OWNER, SUPPORT, LOCK),
    "downloadFirmwareVersion": rule(Scope.ANY, MANAGE_FIRMWARE, OWNER, SUPPORT, LOCK),
    "assignFirmwareVersion": rule(Scope.ANY, MANAGE_FIRMWARE),
    "unassignFirmwareVersion": rule(Scope.ANY, MANAGE_FIRMWARE),
    # Events
    "listEvents": rule(Scope.ANY, OWNER, SUPPORT),
    "triggerEventProcessing": rule(Scope.OBJECT, OWNER, SUPPORT),
    # Keyhouse extensions: the access model (docs/ACCESS.md); membership windows (docs/API.md)
    "getUserGroupMembership": rule(Scope.PROPERTY, *_READ_GROUPS, spec=False),
    "updateUserGroupMembership": rule(Scope.PROPERTY, *_WRITE_GROUPS, spec=False),
    "listSchedules": rule(Scope.PROPERTY, *_READ_GROUPS, spec=False),
    "createSchedule": rule(Scope.PROPERTY, *_WRITE_GROUPS, spec=False),
    "getSchedule": rule(Scope.PROPERTY, *_READ_GROUPS, spec=False),
    "updateSchedule": rule(Scope.PROPERTY, *_WRITE_GROUPS, spec=False),
    "deleteSchedule": rule(Scope.PROPERTY, *_WRITE_GROUPS, spec=False),
    "exportSchedule": rule(Scope.PROPERTY, *_READ_GROUPS, spec=False),
    "listGrants": rule(Scope.PROPERTY, *_READ_GROUPS, ME, spec=False),
    "createGrant": rule(Scope.PROPERTY, *_WRITE_GROUPS, ME, spec=False),
    "getGrant": rule(Scope.PROPERTY, *_READ_GROUPS, ME, spec=False),
    "revokeGrant": rule(Scope.PROPERTY, *_WRITE_GROUPS, ME, spec=False),
    "listBlocks": rule(Scope.PROPERTY, *_READ_GROUPS, spec=False),
    "blockUser": rule(Scope.PROPERTY, *_WRITE_GROUPS, spec=False),
    "unblockUser": rule(Scope.PROPERTY, *_WRITE_GROUPS, spec=False),
    "explainAccess": rule(Scope.PROPERTY, *_READ_GROUPS, spec=False),
    "whatIfAccess": rule(Scope.PROPERTY, *_WRITE_GROUPS, spec=False),
    "getLockAccess": rule(Scope.PROPERTY, *_READ_GROUPS, spec=False),
    "getUserAccess": rule(Scope.PROPERTY, *_READ_GROUPS, ME, spec=False),
    # Keyhouse extension: provable revocation (docs/PROTOCOL.md §8)
    "getEventAcknowledgements": rule(Scope.OBJECT, OWNER, MANAGE_ACCESS, SUPPORT, spec=False),
    # Keyhouse extension: integration accounts (docs/INTEGRATIONS.md); credentials are an owner's
    "listIntegrationAccounts": rule(Scope.ANY, *_READ_GROUPS, spec=False),
    "createIntegrationAccount": rule(Scope.ANY, OWNER, spec=False),
    "getIntegrationAccount": rule(Scope.OBJECT, *_READ_GROUPS, spec=False),
    "updateIntegrationAccount": rule(Scope.OBJECT, OWNER, spec=False),
    "deleteIntegrationAccount": rule(Scope.OBJECT, OWNER, spec=False),
    "pollIntegrationAccount": rule(Scope.OBJECT, *_READ_GROUPS, spec=False),
    "listIntegrationSyncRuns": rule(Scope.OBJECT, *_READ_GROUPS, spec=False),
    "listIntegrationPushes": rule(Scope.OBJECT, *_READ_GROUPS, spec=False),
    "listIntegrationRecords": rule(Scope.OBJECT, *_READ_GROUPS, spec=False),
    "reassignLocktFob": rule(Scope.OBJECT, *_WRITE_GROUPS, spec=False),
    "listLocktMarks": rule(Scope.OBJECT, *_READ_GROUPS, spec=False),
    "createLocktMark": rule(Scope.OBJECT, *_WRITE_GROUPS, spec=False),
    "deleteLocktMark": rule(Scope.OBJECT, *_WRITE_GROUPS, spec=False),
    # Keyhouse extensions: credentials
    "listApiKeys": rule(Scope.GLOBAL, OWNER, spec=False),
    "createApiKey": rule(Scope.GLOBAL, OWNER, spec=False),
    "getApiKey": rule(Scope.GLOBAL, OWNER, spec=False),
    "revokeApiKey": rule(Scope.GLOBAL, OWNER, spec=False),
    "requestSignInCode": rule(Scope.PUBLIC, spec=False),
    "createAuthToken": rule(Scope.PUBLIC, spec=False),
    "revokeAuthToken": rule(Scope.SELF, ME, spec=False),
    "requestEmailChange": rule(Scope.SELF, ME, spec=False),
    "confirmEmailChange": rule(Scope.SELF, ME, spec=False),
    # Keyhouse extensions: bulk import and export (docs/IMPORT.md); areas need OWNER (imports.policies)
    "listImports": rule(Scope.PROPERTY, *_READ_GROUPS, spec=False),
    "createImport": rule(Scope.PROPERTY, *_WRITE_GROUPS, spec=False),
    "getImport": rule(Scope.PROPERTY, *_READ_GROUPS, spec=False),
    "listImportOperations": rule(Scope.PROPERTY, *_READ_GROUPS, spec=False),
    "applyImport": rule(Scope.PROPERTY, *_WRITE_GROUPS, spec=False),
    "cancelImport": rule(Scope.PROPERTY, *_WRITE_GROUPS, spec=False),
    "exportProperty": rule(Scope.PROPERTY, *_READ_GROUPS, spec=False),
    # Keyhouse extensions: the resident portal (docs/PORTAL.md; seed 002 and its extensions)
    "listDpskPassphrases": rule(Scope.PROPERTY, OWNER, MANAGE_ACCESS, spec=False),
    "getUnitUser": rule(Scope.PORTAL, RESIDENT, spec=False),
    "updateUnitUser": rule(Scope.PORTAL, RESIDENT, spec=False),
    "queryUnitUsers": rule(Scope.PORTAL, RESIDENT, spec=False),
    "listUnitUserDevices": rule(Scope.PORTAL, RESIDENT, spec=False),
    "deleteUnitUserDevice": rule(Scope.PORTAL, RESIDENT, spec=False),
    "createUnitGuest": rule(Scope.PORTAL, RESIDENT, spec=False),
}

SPEC_OPERATION_IDS = frozenset(op for op, r in OPERATIONS.items() if r.spec)
