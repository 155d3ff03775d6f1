# GitLab (Omnibus) /etc/gitlab/gitlab.rb: LDAP sign-in with the Auth0
# password, then "gitlab-ctl reconfigure".  Tested by
# tests/integration/test_clients_apps.py, which runs GitLab's searches and
# binds from the settings below against the module.
#
# What GitLab asks: (&(uid=LOGIN)(user_filter)) below "base", as bind_dn;
# then a bind as the user's DN with the typed password (the module asks
# Auth0).  Every hour its LDAP check looks each user up again by DN with
# user_filter; with "(auth0Blocked=FALSE)" in it, a user blocked in Auth0
# is blocked in GitLab at the next check.
#
# bind_dn and password are not in this file: store them in GitLab's
# encrypted LDAP secret (GitLab 13.9 and later):
#   gitlab-rake gitlab:ldap:secret:edit EDITOR=editor
#   main:
#     bind_dn: 'cn=reader,ou=services,dc=example,dc=com'
#     password: '...'
gitlab_rails['ldap_enabled'] = true
gitlab_rails['prevent_ldap_sign_in'] = false
gitlab_rails['ldap_servers'] = YAML.load <<-'EOS'
  main:
    label: 'Acme (Auth0)'
    host: 'ldap.example.com'
    port: 389
    uid: 'uid'
    encryption: 'start_tls'
    verify_certificates: true
    active_directory: false
    allow_username_or_email_login: false
    lowercase_usernames: false
    block_auto_created_users: false
    base: 'ou=people,dc=example,dc=com'
    # Only Engineering (members of nested groups included) and not blocked.
    user_filter: '(&(memberOf=cn=Engineering,ou=groups,dc=example,dc=com)(auth0Blocked=FALSE))'
    attributes:
      username: ['uid']
      email: ['mail']
      name: 'cn'
      first_name: 'givenName'
      last_name: 'sn'
    # GitLab Premium and up: group sync and admin sync.  GitLab reads a
    # group by (cn=NAME) below group_base and takes member, uniqueMember or
    # memberUid; the module fills all three with the flattened membership.
    group_base: 'ou=groups,dc=example,dc=com'
    admin_group: 'SRE'
EOS
