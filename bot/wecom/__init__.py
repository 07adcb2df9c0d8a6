"""The WeCom transport: callback crypto, XML parsing and rendering, and the outbound sender."""
