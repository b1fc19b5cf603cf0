"""A case across the domains, composed above them: a referral received (stored by referrals, routed by decisions,
a guardian requested by safeguarding, duplicates checked by linkage) and a referral presented (its status view
shows its decisions; a guardian service's view, the child's safeguarding summary).

The case domains sit below this package and never import it: referrals at the bottom, then decisions,
safeguarding and linkage, each of which may build on referrals. The pages and the API call this package.
"""
