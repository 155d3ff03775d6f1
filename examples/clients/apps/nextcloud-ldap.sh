#!/bin/sh
# Nextcloud "LDAP user and group backend" (user_ldap) for a back-auth0
# directory, set up with occ (run as the web server user, in the Nextcloud
# folder: sudo -u www-data sh nextcloud-ldap.sh).  Users log in with their
# Auth0 uid or email and their Auth0 password.  Tested by
# tests/integration/test_clients_apps.py, which runs the queries below
# (user list with paged results, login filter, groups by memberOf and by
# member) and the user bind against the module.
set -e
occ="php occ"

$occ app:enable user_ldap
$occ ldap:create-empty-config          # creates the configuration "s01"
c=s01

$occ ldap:set-config $c ldapHost "ldap://ldap.example.com"
$occ ldap:set-config $c ldapPort 389
$occ ldap:set-config $c ldapTLS 1                     # StartTLS
$occ ldap:set-config $c ldapAgentName "cn=reader,ou=services,dc=example,dc=com"
$occ ldap:set-config $c ldapAgentPassword "$(cat /etc/nextcloud/ldap-reader.secret)"
$occ ldap:set-config $c ldapBase "dc=example,dc=com"
$occ ldap:set-config $c ldapBaseUsers "ou=people,dc=example,dc=com"
$occ ldap:set-config $c ldapBaseGroups "ou=groups,dc=example,dc=com"

# The filters Nextcloud's wizard writes for object class inetOrgPerson,
# login by username or email, and groups of class groupOfNames.
$occ ldap:set-config $c ldapUserFilterMode 1
$occ ldap:set-config $c ldapUserFilter "(|(objectclass=inetOrgPerson))"
$occ ldap:set-config $c ldapLoginFilterMode 1
$occ ldap:set-config $c ldapLoginFilter "(&(|(objectclass=inetOrgPerson))(|(uid=%uid)(|(mailPrimaryAddress=%uid)(mail=%uid))))"
$occ ldap:set-config $c ldapGroupFilterMode 1
$occ ldap:set-config $c ldapGroupFilter "(|(objectclass=groupOfNames))"

# Attributes.  entryUUID is derived from the Auth0 user_id by the module,
# so a user keeps the same Nextcloud account across renames and re-imports.
$occ ldap:set-config $c ldapExpertUsernameAttr uid
$occ ldap:set-config $c ldapExpertUUIDUserAttr entryUUID
$occ ldap:set-config $c ldapExpertUUIDGroupAttr entryUUID
$occ ldap:set-config $c ldapUserDisplayName displayName
$occ ldap:set-config $c ldapEmailAttribute mail
$occ ldap:set-config $c ldapGroupDisplayName cn

# Groups: member holds the flattened membership, and every user carries
# memberOf, so Nextcloud needs no nested-group resolution of its own.
$occ ldap:set-config $c ldapGroupMemberAssocAttr member
$occ ldap:set-config $c useMemberOfToDetectMembership 1
$occ ldap:set-config $c ldapNestedGroups 0

$occ ldap:set-config $c ldapPagingSize 500            # RFC 2696 paged results
$occ ldap:set-config $c turnOnPasswordChange 0        # passwords live in Auth0
$occ ldap:set-config $c ldapConfigurationActive 1
$occ ldap:test-config $c
