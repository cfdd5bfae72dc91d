"""Words the demo operation is written with: people, companies, and what customers write about.

The demo help desk supports "Orbitly", a made-up project-planning SaaS with web and mobile apps,
subscriptions and integrations, because that gives every team (billing, accounts, technical)
believable work. Everything here is plain data; ``simulate`` combines it with a seeded RNG, so
the same seed always writes the same tickets. Nothing is read from disk at run time.

Templates use ``str.format`` slots filled per ticket (see ``SLOT_VALUES`` and ``simulate``):
{first} customer's first name, {agent} agent's first name, {company} the customer's company, and
the topic details below ({order}, {invoice}, {plan}, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

PRODUCT = "Orbitly"

# --- people ---------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Aaliyah", "Aarav", "Abigail", "Adrian", "Agnes", "Ahmed", "Aiko", "Alejandro", "Alice", "Amara",
    "Amelia", "Ana", "Andrea", "Andrew", "Anika", "Anna", "Antoine", "Arjun", "Astrid", "Ava",
    "Beatriz", "Ben", "Bianca", "Bogdan", "Brandon", "Camila", "Carlos", "Carmen", "Caroline", "Chen",
    "Chiara", "Chloe", "Chris", "Clara", "Daniel", "Daniela", "David", "Deepa", "Diego", "Dmitri",
    "Elena", "Eli", "Elif", "Elijah", "Ella", "Emeka", "Emil", "Emily", "Emma", "Erik",
    "Ethan", "Eva", "Fatima", "Felix", "Fernanda", "Finn", "Fiona", "Francesca", "Gabriel", "Grace",
    "Hana", "Hannah", "Hassan", "Helena", "Henry", "Hiroshi", "Hugo", "Ibrahim", "Ines", "Ingrid",
    "Isaac", "Isabella", "Ivan", "Jack", "Jakub", "James", "Jana", "Javier", "Jessica", "Jin",
    "Joao", "Johanna", "Jonas", "Jordan", "Jose", "Julia", "Julian", "Kai", "Karim", "Katarzyna",
    "Kenji", "Kevin", "Khadija", "Kofi", "Laila", "Lars", "Laura", "Leah", "Leila", "Leon",
    "Liam", "Lily", "Lina", "Lucas", "Lucia", "Luis", "Maja", "Malik", "Marco", "Maria",
    "Mariam", "Mark", "Marta", "Mateo", "Matteo", "Maya", "Mei", "Mia", "Michael", "Miguel",
    "Mila", "Mohammed", "Nadia", "Naomi", "Nathan", "Nia", "Nikhil", "Nina", "Noah", "Nora",
    "Olivia", "Omar", "Oscar", "Pablo", "Paula", "Pedro", "Priya", "Rafael", "Rahul", "Rania",
    "Ravi", "Rebecca", "Ricardo", "Rosa", "Ryan", "Sakura", "Samir", "Samuel", "Sara", "Sebastian",
    "Sergei", "Sienna", "Sofia", "Sophie", "Stefan", "Sven", "Tariq", "Thomas", "Tomas", "Valentina",
    "Victor", "Vikram", "Wei", "William", "Yara", "Yusuf", "Zainab", "Zoe", "Zofia", "Zuzana",
)  # fmt: skip

LAST_NAMES = (
    "Abbott", "Adeyemi", "Ahmed", "Alvarez", "Andersen", "Bakker", "Banerjee", "Becker", "Bianchi", "Blanco",
    "Brennan", "Brown", "Campbell", "Carvalho", "Castillo", "Chen", "Costa", "Dalton", "Das", "Dubois",
    "Duarte", "Eriksson", "Evans", "Fischer", "Fontaine", "Garcia", "Gonzalez", "Gupta", "Haddad", "Hansen",
    "Hartmann", "Hayes", "Hernandez", "Hoffmann", "Horvat", "Hughes", "Ibrahim", "Ito", "Jansen", "Jensen",
    "Johansson", "Kaur", "Kelly", "Khan", "Kim", "Kowalski", "Kumar", "Larsen", "Laurent", "Lee",
    "Lehmann", "Lindqvist", "Lopez", "Mahmoud", "Marino", "Martin", "Mazur", "Mendes", "Meyer", "Moreau",
    "Morris", "Muller", "Murphy", "Nakamura", "Nguyen", "Novak", "Nowak", "Obi", "Okafor", "Olsen",
    "Ortiz", "Osei", "Park", "Patel", "Pereira", "Petrov", "Popescu", "Quinn", "Ramos", "Reddy",
    "Reyes", "Ricci", "Rossi", "Russo", "Sato", "Schmidt", "Schneider", "Shah", "Silva", "Singh",
    "Sokolova", "Suzuki", "Svensson", "Tanaka", "Torres", "Van Dijk", "Vargas", "Wagner", "Walsh", "Wang",
    "Weber", "Wilson", "Wojcik", "Yamamoto", "Yilmaz", "Young", "Zhang", "Zimmermann", "Zoric", "Zuniga",
)  # fmt: skip

# Customers without a company write from these (reserved example domains: never real inboxes).
PERSONAL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "inbox.example")

# The desk's own staff: fixed names so demo sign-ins read the same on every machine and seed.
ADMIN_NAME = "Avery Quinn"
MANAGER_NAMES = ("Morgan Ellis", "Priya Raman")
COLLABORATOR_NAME = "Sam Okoro"
AGENT_NAMES = (
    "Lena Hoffmann", "Marcus Reid", "Sofia Alvarez", "Tom Becker", "Aisha Bello", "Jonas Lindqvist",
    "Hana Sato", "Diego Moreno", "Nora Fitzgerald", "Ravi Menon", "Claire Dubois", "Felix Wagner",
    "Mei Lin", "Oliver Grant", "Ines Carvalho", "Kwame Mensah", "Julia Nowak", "Omar Haddad",
    "Emma Larsen", "Lucas Ferreira", "Yuki Tanaka", "Grace Murphy", "Arjun Patel", "Elif Kaya",
    "Ben Carter", "Zofia Kowalska", "Mateo Rossi", "Amara Osei", "Nina Petrova", "Sean Walsh",
)  # fmt: skip
CUSTOMER_ACCOUNT_NAMES = ("Charlotte Webb", "Daniel Kim", "Fatima Zahra")

# --- companies --------------------------------------------------------------------------------------

ORG_STEMS = (
    "Acorn", "Alder", "Alpine", "Amber", "Anchor", "Apex", "Arbor", "Argent", "Aster", "Atlas",
    "Aurora", "Basalt", "Beacon", "Birch", "Blue Fjord", "Bluepeak", "Boreal", "Brightline", "Brook", "Canyon",
    "Cedar", "Cinder", "Clearwater", "Cobalt", "Copper", "Coral", "Crescent", "Cypress", "Delta", "Driftwood",
    "Eastgate", "Ember", "Evergreen", "Falcon", "Fernhill", "Firefly", "Foxglove", "Glacier", "Golden Gate", "Granite",
    "Harbor", "Hawthorn", "Heron", "Highland", "Horizon", "Indigo", "Ironwood", "Juniper", "Kestrel", "Lakeside",
    "Lantern", "Larkspur", "Lighthouse", "Linden", "Lumen", "Maple", "Meridian", "Millbrook", "Monarch", "Moss",
    "Northwind", "Nova", "Oakridge", "Obsidian", "Orchard", "Osprey", "Pacific", "Pebble", "Pinecrest", "Pioneer",
    "Polar", "Quarry", "Quill", "Redwood", "Ridgeline", "Riverbend", "Rowan", "Saffron", "Sage", "Sapphire",
    "Seabright", "Sequoia", "Silverline", "Skyward", "Solstice", "Sparrow", "Spruce", "Stonebridge", "Summit",
    "Sunfield",
    "Tamarack", "Thistle", "Timber", "Trident", "Tundra", "Umber", "Valley", "Vantage", "Verdant", "Westbrook",
    "Willow", "Windmill", "Wren", "Yarrow", "Zenith", "Zephyr",
)  # fmt: skip

ORG_TRADES = (
    "Analytics", "Architects", "Bakery", "Bank", "Biotech", "Brewing", "Builders", "Capital", "Consulting",
    "Creative", "Dental", "Design", "Digital", "Education", "Energy", "Engineering", "Events", "Farms",
    "Fitness", "Foods", "Freight", "Games", "Health", "Hospitality", "Insurance", "Interiors", "Labs",
    "Law", "Learning", "Logistics", "Manufacturing", "Marketing", "Media", "Medical", "Motors", "Outdoor",
    "Partners", "Pharma", "Print", "Properties", "Publishing", "Realty", "Recruiting", "Retail", "Robotics",
    "Software", "Solar", "Studios", "Systems", "Telecom", "Textiles", "Travel", "Ventures", "Wellness",
)  # fmt: skip

ORG_SUFFIXES = ("", "", "", "Inc.", "Ltd", "LLC", "GmbH", "Group", "Co.", "AB", "BV", "SAS", "Pty Ltd", "Oy", "AG")

# Customers' own time zones, for their records (the desk works in UTC).
CUSTOMER_TIME_ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Stockholm",
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
    "America/Toronto", "Asia/Tokyo", "Asia/Singapore", "Asia/Kolkata", "Australia/Sydney", "Africa/Lagos",
)  # fmt: skip

# --- teams -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamSpec:
    key: str
    name: str
    description: str
    # Share of the agents whose home team this is.
    share: float


TEAMS = (
    TeamSpec("general", "General Support", "First line: how-to questions, onboarding and anything unrouted.", 0.30),
    TeamSpec("billing", "Billing", "Invoices, payments, refunds, plan changes and cancellations.", 0.20),
    TeamSpec("accounts", "Accounts & Security", "Sign-in, two-factor, SSO, account ownership and data requests.", 0.15),
    TeamSpec("technical", "Technical Support", "Bugs, sync, integrations, the API and performance.", 0.25),
    TeamSpec("escalations", "Escalations", "Second line: hard technical cases and unhappy key accounts.", 0.10),
)

# --- ticket topics ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    """What a ticket is about, and how its conversation tends to go."""

    key: str
    team: str
    weight: float
    # (question, incident, problem, task) weights.
    types: tuple[int, int, int, int]
    # Tags a routing rule adds on arrival.
    tags: tuple[str, ...]
    subjects: tuple[str, ...]
    # The customer's first message: the problem in their words.
    problems: tuple[str, ...]
    # The agent asks for what they need (the ticket then waits on the customer: pending).
    asks: tuple[str, ...]
    # The customer answers the question.
    answers: tuple[str, ...]
    # The agent's answer or fix (usually solves the ticket).
    fixes: tuple[str, ...]
    # Chance that the routing rule raises the priority (outages, double charges...).
    urgent_bias: float = 0.0


TOPICS = (
    Topic(
        "password_reset", "accounts", 7, (8, 2, 0, 0), ("login", "password"),
        (
            "Password reset email never arrives", "Can't reset my password", "Reset link says it has expired",
            "Locked out after password change", "password reset not working", "Forgot password - no email",
        ),
        (
            "I requested a password reset three times this morning but no email has arrived, not even in spam. "
            "My login is the address I'm writing from.",
            "When I click the reset link in your email I get a page saying the link has expired, even though I "
            "clicked it within a minute.",
            "I changed my password yesterday and now neither the old nor the new one works. I'm locked out of "
            "{company}'s workspace.",
            "The 'Forgot password' button doesn't seem to do anything in {browser}. Nothing happens when I submit.",
        ),
        (
            "Could you tell me which email address the account was created with? Sometimes a workspace invite "
            "goes to a different alias.",
            "Could you check whether your mail server is filtering messages from notifications@orbitly.example? "
            "Our logs show the email was delivered.",
        ),
        (
            "It's the address I'm writing from, but we also have an alias at {company}. Maybe it went there?",
            "Our IT team found the emails in a quarantine folder. They've whitelisted your address now.",
            "I tried again in a private window and it worked this time.",
        ),
        (
            "I've sent a fresh reset link that is valid for 24 hours. If it doesn't arrive in a few minutes, "
            "let me know and I can reset it for you directly.",
            "I've cleared the lock on your account. You can now sign in with the new password; your old sessions "
            "have been signed out for safety.",
            "The reset links were being stripped by your mail filter. Now that our address is allowed, the next "
            "reset email should come through straight away.",
        ),
    ),
    Topic(
        "two_factor", "accounts", 4, (6, 2, 0, 2), ("login", "2fa"),
        (
            "Lost my phone - can't get 2FA codes", "Two-factor codes not accepted", "Need to disable 2FA",
            "New phone, authenticator app empty", "2FA code invalid every time",
        ),
        (
            "I got a new phone and my authenticator app didn't transfer the codes. I can't sign in to {product} "
            "anymore. I don't have my recovery codes.",
            "Every two-factor code I enter is rejected as invalid. The time on my phone is set automatically.",
            "Our admin left {company} and 2FA is enforced for the workspace. How do we get back in?",
        ),
        (
            "For security, I need to verify your identity before removing two-factor authentication. Could you "
            "reply with the workspace name and the last four digits of the card on file?",
            "Could you confirm you're the workspace owner? If not, we'll need the owner to approve this request.",
        ),
        (
            "The workspace is {company} and the card ends in {card}.",
            "Yes, I'm the owner. I set up the account back in {year}.",
            "Our CFO is the owner, I've copied her on this email to approve.",
        ),
        (
            "Thanks, your identity is verified. I've reset two-factor authentication; you'll be asked to set it up "
            "again the next time you sign in. Please save the new recovery codes somewhere safe.",
            "The codes were rejected because your phone's clock was a few minutes off. After syncing the time in "
            "the authenticator app's settings, the codes should be accepted.",
        ),
    ),
    Topic(
        "sso_setup", "accounts", 2, (3, 1, 0, 6), ("sso",),
        (
            "Help setting up SAML SSO with {idp}", "SSO login fails with 'invalid audience'",
            "Enforce SSO for all users", "SCIM provisioning not creating users",
        ),
        (
            "We're rolling out single sign-on at {company} with {idp}. I've entered the metadata URL but the test "
            "login fails with 'invalid audience'.",
            "We'd like to enforce SSO for everyone in our workspace and turn off password logins. Is that "
            "possible on the {plan} plan?",
            "SCIM provisioning from {idp} is connected but new hires aren't showing up in {product}.",
        ),
        (
            "Could you send a screenshot of the SAML settings in {idp} (with secrets hidden) and the exact "
            "time of the last failed attempt?",
            "Which attribute are you mapping to the user's email? It needs to be sent as NameID.",
        ),
        (
            "Screenshot attached. The last attempt was around {time} our time.",
            "We were mapping the UPN instead of the email address. I've changed it but would like you to check.",
        ),
        (
            "The Entity ID in {idp} needs to be https://orbitly.example/saml/{code} exactly, without the trailing "
            "slash. Once that's changed the test login should succeed.",
            "SSO enforcement is available on {plan}. I've switched it on for your workspace; admins keep a "
            "password fallback in case the identity provider is down.",
            "New users were being created in a disabled state because of the default role setting. I've changed "
            "the default role to Member and re-run the sync; your new hires are now active.",
        ),
    ),
    Topic(
        "account_access", "accounts", 3, (5, 3, 0, 2), ("account", "ownership"),
        (
            "Transfer workspace ownership", "Former employee still owns our workspace", "Can't access old account",
            "Change the email on my account", "Merge two accounts",
        ),
        (
            "The person who created our workspace has left {company}. How do we transfer ownership to me?",
            "I'd like to change the email address on my account to my new work address.",
            "I accidentally created two accounts and my projects are split between them. Can they be merged?",
        ),
        (
            "Could you ask one of the other admins in your workspace to reply to confirm this change?",
            "Which of the two accounts would you like to keep?",
        ),
        (
            "Our other admin, {other_first}, is copied and confirms.",
            "Please keep the one with the most projects, the address I'm writing from.",
        ),
        (
            "Done: you're now the owner of the workspace. The previous owner's account has been downgraded to "
            "a regular member and can be removed from the Members page.",
            "I've updated the email on your account. You'll get a confirmation at the new address; the old "
            "one will stop working for sign-in.",
            "The accounts are merged. All {count} projects are now under the address you're writing from.",
        ),
    ),
    Topic(
        "data_request", "accounts", 1.5, (3, 0, 0, 7), ("gdpr", "data-request"),
        (
            "Request to delete my data", "GDPR data export request", "Close our account and delete everything",
            "Data processing agreement", "Where is our data stored?",
        ),
        (
            "Under GDPR, I'd like a copy of all personal data you hold about me.",
            "We've stopped using {product} and want our account and all data deleted.",
            "Our legal team needs a signed data processing agreement before we can continue. Where can we get it?",
            "Can you confirm in which region our workspace data is stored? Our policy requires the EU.",
        ),
        (
            "To protect your data, could you confirm the request from the account owner's email address?",
            "Before we delete anything: would you like an export of your projects first? Deletion can't be undone.",
        ),
        (
            "Confirmed from the owner's address. Please go ahead.",
            "No export needed, please delete everything.",
        ),
        (
            "Your data export is ready. The download link has been sent to the account email and is valid for "
            "7 days.",
            "Your workspace and all its data have been scheduled for deletion; it will be complete within 30 "
            "days, and backups expire within 90.",
            "Our DPA is available to sign under Settings > Legal. Your workspace data is stored in our EU "
            "region (Frankfurt).",
        ),
    ),
    Topic(
        "invoice", "billing", 6, (8, 0, 0, 2), ("billing", "invoice"),
        (
            "Need a copy of invoice {invoice}", "Invoice shows the wrong company name",
            "Where can I download our invoices?", "Please add our PO number to the invoice", "Invoice {invoice}",
            "Missing invoice for {month}",
        ),
        (
            "Our accounts team can't find invoice {invoice} for {month}. Could you send a copy?",
            "The invoice we received shows our old company name. It should be {company}. Can you reissue it?",
            "Our finance department requires our PO number {po} on every invoice. Could you add it to {invoice}?",
            "I'm the new billing contact at {company}. Where can I download past invoices?",
        ),
        (
            "Could you confirm the billing address that should appear on the corrected invoice?",
            "Should the PO number appear on future invoices too, or only on {invoice}?",
        ),
        (
            "The address is the same as before, only the company name changed.",
            "On all future invoices please, until we tell you otherwise.",
        ),
        (
            "I've attached a copy of invoice {invoice}. You can always find past invoices under Settings > Billing "
            "> Invoices.",
            "I've reissued {invoice} with the corrected company name; the new copy is in your billing page.",
            "PO {po} is now on {invoice} and will be added to all future invoices automatically.",
        ),
    ),
    Topic(
        "refund", "billing", 4, (5, 1, 0, 4), ("billing", "refund"),
        (
            "Refund request", "Charged after cancelling - please refund", "Refund for unused seats",
            "Annual plan renewed by mistake", "Requesting a refund for {month}",
        ),
        (
            "Our annual plan renewed yesterday for {amount}, but we had planned to cancel. Can we get a refund?",
            "We removed {seats} seats last month but were still charged for them. Please refund the difference.",
            "I cancelled my subscription on the {day} but was charged {amount} again today.",
        ),
        (
            "Could you tell me the last four digits of the card that was charged, so I can find the payment?",
            "Would you like to keep the account on the free plan, or close it completely after the refund?",
        ),
        (
            "The card ends in {card}.",
            "Please move us to the free plan, we may come back later.",
        ),
        (
            "I've refunded {amount} to the card ending in {card}. It usually shows up within 5-10 business days, "
            "depending on your bank.",
            "You're right, the seats should have been removed. I've refunded the difference and corrected the "
            "seat count for the next renewal.",
            "As the renewal was less than 14 days ago, I've issued a full refund and cancelled the plan.",
        ),
    ),
    Topic(
        "double_charge", "billing", 2, (2, 7, 1, 0), ("billing", "payment"),
        (
            "Charged twice this month!", "Double charge on my card", "Duplicate payment of {amount}",
            "Why were we billed twice?",
        ),
        (
            "We've been charged {amount} twice this month for the same subscription. Please fix this as soon "
            "as possible.",
            "My bank statement shows two identical charges from {product} on the same day.",
        ),
        (
            "Could you send a screenshot of the two charges on your statement (please hide the card number)?",
        ),
        (
            "Screenshot attached. Both are {amount}, dated the {day}.",
        ),
        (
            "I'm sorry about that. The second charge was a duplicate caused by a payment retry on our side. "
            "I've refunded it; it will appear on your statement within a few days.",
            "One of the charges was a pending authorisation that your bank will release automatically; only one "
            "payment was actually captured. I've attached the receipt.",
        ),
        urgent_bias=0.4,
    ),
    Topic(
        "plan_change", "billing", 4, (4, 0, 0, 6), ("billing", "plan-change"),
        (
            "Upgrade to {new_plan}", "Downgrade our plan", "Switch from monthly to annual billing",
            "Add {seats} more seats", "Question about {new_plan} pricing",
        ),
        (
            "We'd like to move from {plan} to {new_plan}. Will we be charged the full price right away?",
            "Can we switch to annual billing? We're currently paying monthly on the {plan} plan.",
            "We need {seats} more seats for new starters next week.",
            "We're on {plan} and don't use most features. What happens to our data if we downgrade?",
        ),
        (
            "Would you like the change to take effect immediately or at the next renewal?",
        ),
        (
            "Immediately please, we need the features this week.",
            "At renewal is fine.",
        ),
        (
            "Done: you're on {new_plan} now. You'll only be charged the prorated difference for the rest of the "
            "billing period.",
            "Your workspace will switch to annual billing at the next renewal, with the 15% annual discount.",
            "I've added {seats} seats. Your next invoice will include a prorated charge for them.",
            "Nothing is deleted when you downgrade; features not in the new plan become read-only.",
        ),
    ),
    Topic(
        "cancellation", "billing", 3, (3, 0, 0, 7), ("billing", "cancellation"),
        (
            "Cancel our subscription", "How do I cancel?", "Please cancel at the end of the term",
            "Cancellation request - {company}",
        ),
        (
            "Please cancel our subscription at the end of the current term. We've moved to another tool.",
            "I can't find a way to cancel in the settings. Can you do it for me?",
            "Our budget was cut and we need to cancel {product} for now.",
        ),
        (
            "Sorry to see you go. Before I cancel, could you tell us what made you decide to leave? It helps us "
            "improve.",
        ),
        (
            "Mostly price. The {plan} plan is too expensive for a team of our size.",
            "We needed {feature}, which {product} doesn't have yet.",
        ),
        (
            "I've cancelled the subscription; it stays active until the end of the paid period, and your data "
            "is kept for 90 days in case you change your mind.",
            "Your subscription is cancelled and you won't be charged again. Thanks for the feedback, I've passed "
            "it on to our product team.",
        ),
    ),
    Topic(
        "payment_failed", "billing", 2.5, (3, 6, 1, 0), ("billing", "payment"),
        (
            "Card declined but it works elsewhere", "Payment failed - account suspended?", "Update payment method",
            "Can we pay by bank transfer?",
        ),
        (
            "We got an email saying our payment failed, but the card works everywhere else. Is our account going "
            "to be suspended?",
            "How can I update the card on file? The old one expired.",
            "Our finance team prefers to pay by bank transfer. Is that possible on the {plan} plan?",
        ),
        (
            "Could you try the payment once more and tell me the exact error message you see?",
        ),
        (
            "It says 'Your card requires authentication' and then nothing happens.",
            "Tried again with another card and it went through.",
        ),
        (
            "The payment needed 3-D Secure confirmation from your bank. I've re-sent the payment link; once you "
            "confirm it in your banking app, the account is settled.",
            "You can update the card under Settings > Billing > Payment method. Your account won't be suspended; "
            "we retry the payment automatically for 14 days.",
            "Yes: I've switched your account to invoice billing with bank transfer. The next invoice will include "
            "our bank details.",
        ),
    ),
    Topic(
        "sync", "technical", 6, (1, 7, 2, 0), ("bug", "sync"),
        (
            "Changes not syncing between web and mobile", "Sync stuck at 'Updating...'", "Tasks disappear after sync",
            "Sync error {error}", "Calendar sync stopped working", "Data out of sync across devices",
        ),
        (
            "Since this morning, changes I make in the web app don't show up in the mobile app on my {device}. "
            "The app says 'Updating...' forever.",
            "When I edit a task on my laptop it reverts to the old version a few minutes later.",
            "The sync keeps failing with error {error}. I've already signed out and back in.",
            "Our calendar sync with {integration} stopped working on the {day}. No new events come through.",
        ),
        (
            "Could you tell me the app version (Settings > About) and send us a diagnostic report from the "
            "mobile app (Settings > Help > Send diagnostics)?",
            "Does this happen for everyone in {company}'s workspace or only for your account?",
        ),
        (
            "App version {version}, diagnostics sent just now.",
            "Only me as far as I know. My colleagues haven't noticed anything.",
            "It's everyone on the team, at least {seats} people.",
        ),
        (
            "Thanks for the report: a stuck sync queue on your account was holding back changes. I've cleared it "
            "and everything has caught up. Updating to version {version} prevents it from happening again.",
            "This was caused by a bug in {version} that our engineers fixed in today's release. Please update the "
            "app and the sync will resume.",
            "The {integration} connection had expired. Reconnecting it under Settings > Integrations restored the "
            "sync; missed events are backfilled within an hour.",
        ),
    ),
    Topic(
        "app_crash", "technical", 4, (1, 6, 3, 0), ("bug", "mobile"),
        (
            "App crashes on startup", "{product} keeps crashing on {device}",
            "Mobile app closes when opening a project",
            "Crash after latest update", "App freezes when uploading photos",
        ),
        (
            "Since the latest update the app crashes as soon as I open it on my {device} ({os}).",
            "The app closes every time I open the '{project}' project. Other projects are fine.",
            "Uploading photos to a task freezes the app and then it closes.",
        ),
        (
            "Could you send us the crash report? On {os} you'll find the option under Settings > Help > Send "
            "diagnostics, or reply with the time of the last crash.",
            "Does reinstalling the app change anything? Your data is safe on our servers.",
        ),
        (
            "Reinstalled, still crashing. Last crash was at {time}.",
            "Diagnostics sent. It happened again just now.",
        ),
        (
            "The crash comes from an attachment in '{project}' that the app couldn't render. We've released a fix "
            "in version {version}; please update from the app store.",
            "Our engineers found the cause: a memory issue with large photo uploads on {os}. The fix is in "
            "version {version}, available today.",
        ),
    ),
    Topic(
        "export", "technical", 3, (4, 4, 2, 0), ("bug", "export"),
        (
            "CSV export is empty", "Export to Excel fails", "Report export times out",
            "Exported dates are in the wrong time zone", "PDF export missing comments",
        ),
        (
            "When I export the '{project}' project to CSV the file only has the header row.",
            "Exporting our time report for {month} to Excel fails with error {error}.",
            "The dates in the CSV export are all shifted by a few hours compared with what I see in the app.",
        ),
        (
            "Which filters did you have selected when exporting? Could you send a screenshot of the export "
            "dialog?",
        ),
        (
            "Screenshot attached. Filter was 'assigned to me', date range {month}.",
            "No filters, just the whole project.",
        ),
        (
            "The 'assigned to me' filter was applied to the export as well, which is why it was empty. Clearing "
            "it gives the full export; I've passed the confusing behaviour on to the product team.",
            "Exports are generated in UTC unless a time zone is set in your profile. After setting yours, the "
            "dates in the export match the app.",
            "Large exports were timing out because of a bug we fixed this morning. Please try again, it should "
            "finish in under a minute.",
        ),
    ),
    Topic(
        "performance", "technical", 2.5, (1, 3, 6, 0), ("performance",),
        (
            "{product} is very slow today", "Board view takes ages to load", "Slow search results",
            "Timeouts when opening projects",
        ),
        (
            "Everything in {product} is extremely slow for us today: boards take 20-30 seconds to load.",
            "The board view of '{project}' takes almost a minute to load. It has about {count} tasks.",
            "Search is so slow it's unusable. Typing a word takes several seconds to show results.",
        ),
        (
            "Could you run the check at status.orbitly.example/network and send us the result?",
            "Which browser and version are you using? Does it also happen in a private window?",
        ),
        (
            "Results attached. We're in {city} if that helps.",
            "{browser} on {os}. Same in a private window.",
        ),
        (
            "The project had accumulated a very large archive, which slowed down loading. Our engineers added an "
            "index for it; the board should now load in a couple of seconds.",
            "We had degraded performance in one region this morning; it has been resolved. Thanks for your "
            "patience.",
        ),
    ),
    Topic(
        "notifications", "technical", 3, (2, 6, 2, 0), ("notifications", "email"),
        (
            "Not receiving email notifications", "Too many notifications", "Push notifications stopped",
            "Mentions don't notify anyone",
        ),
        (
            "None of our team gets email notifications anymore when they are assigned a task.",
            "Push notifications on my {device} stopped working after the update.",
            "How can I reduce notifications? I get an email for every single comment.",
        ),
        (
            "Could you check whether emails from notifications@orbitly.example are reaching your spam folder or "
            "a quarantine?",
        ),
        (
            "Nothing in spam. Our IT says nothing is blocked.",
            "Found them in quarantine, IT has released them.",
        ),
        (
            "Your domain's mail server was rejecting our messages after a change in their settings; our bounce "
            "list had paused delivery. I've cleared the list, so notifications will arrive again.",
            "You can choose which events notify you under Profile > Notifications; 'Daily digest' bundles "
            "comments into one email a day.",
            "Push notifications were turned off by the {os} update. Enabling them again in the system settings "
            "for {product} fixes it.",
        ),
    ),
    Topic(
        "integration", "technical", 4, (4, 4, 1, 1), ("integration",),
        (
            "{integration} integration not posting updates", "Can't connect {integration}",
            "{integration} integration disconnected", "Duplicate items from {integration}",
            "Question about the {integration} integration",
        ),
        (
            "Our {integration} integration stopped posting updates on the {day}. Nothing changed on our side.",
            "When I try to connect {integration} I get '{error}' after authorising.",
            "Every item from {integration} appears twice in our project.",
            "Does the {integration} integration support two-way sync, or only one way?",
        ),
        (
            "Could you try disconnecting and reconnecting {integration} under Settings > Integrations and tell me "
            "whether the error comes back?",
            "Is the {integration} account you authorised an admin in {integration}?",
        ),
        (
            "Reconnected, same error.",
            "It wasn't an admin account. I've asked our IT to do it.",
            "That fixed it, thanks.",
        ),
        (
            "The {integration} token had been revoked when your admin changed their password. After reconnecting, "
            "updates flow again.",
            "The duplicates came from two connections to the same {integration} workspace. I removed the older "
            "one and merged the duplicate items.",
            "The {integration} integration is two-way for tasks and comments, one-way for attachments.",
        ),
    ),
    Topic(
        "api", "technical", 2.5, (6, 2, 2, 0), ("api",),
        (
            "API returns 429 Too Many Requests", "API token not working", "Webhook not firing",
            "Question about API pagination", "API error {error}",
        ),
        (
            "Our nightly job that reads tasks through the API gets 429 errors after a few hundred requests.",
            "Our API token returns 401 even though I just created it.",
            "The webhook for task updates isn't called anymore. Our endpoint is up.",
        ),
        (
            "Could you send the request ID from the response headers (X-Request-Id) of a failing call?",
        ),
        (
            "Request ID {code}, failed at {time} UTC.",
            "Here are three request IDs from this morning: {code} and two more in the attached log.",
        ),
        (
            "The API allows 600 requests per minute per token. Following the Link header for pagination and "
            "backing off on 429 with Retry-After keeps the job within the limit.",
            "The token was created with read-only scope, so writes return 401. A read/write token fixes it.",
            "Your webhook was disabled automatically after repeated timeouts. I've re-enabled it; it needs to "
            "answer within 10 seconds.",
        ),
    ),
    Topic(
        "data_missing", "technical", 1.5, (1, 4, 5, 0), ("bug", "data-loss"),
        (
            "Tasks disappeared from our project", "Comments missing after update", "Project deleted by mistake",
            "Files missing from tasks",
        ),
        (
            "About {count} tasks have disappeared from '{project}'. Nobody on the team deleted them.",
            "A colleague deleted the '{project}' project by mistake. Can it be restored?",
            "Several attachments are gone from tasks in '{project}' since yesterday.",
        ),
        (
            "Could you tell me roughly when the tasks were last visible, and who had access to the project?",
        ),
        (
            "They were there on Friday. Only {other_first} and I have edit access.",
        ),
        (
            "The tasks were moved to another project by a bulk edit on the {day}. I've moved them back and "
            "restored their order.",
            "Deleted projects are kept for 30 days. I've restored '{project}' with all its tasks and comments.",
        ),
        urgent_bias=0.5,
    ),
    Topic(
        "outage", "technical", 0.5, (0, 9, 1, 0), ("outage",),
        (
            "{product} is down", "Can't load anything - 502 errors", "Is there an outage?", "Site not loading",
            "URGENT: nobody can log in",
        ),
        (
            "Nobody at {company} can load {product}. We get a 502 error on every page.",
            "Is there an outage? The app has been spinning for 15 minutes.",
            "Our whole team is blocked, nothing loads. This is urgent, we have a deadline today.",
        ),
        (
            "We're aware of an incident affecting part of our customers and are working on it. Could you confirm "
            "the workspace URL so I can make sure it's covered?",
        ),
        (
            "It's {code}.orbitly.example.",
        ),
        (
            "The incident has been resolved: a failed database failover caused errors for about 40 minutes. "
            "Everything is working again, and no data was lost. We're sorry for the disruption.",
            "Service is fully restored. We'll publish a post-incident report on our status page within 48 hours.",
        ),
        urgent_bias=0.9,
    ),
    Topic(
        "import", "general", 2.5, (6, 1, 0, 3), ("import", "onboarding"),
        (
            "Importing from {competitor}", "CSV import fails", "Help importing our projects",
            "Import skipped half the rows",
        ),
        (
            "We're moving from {competitor} to {product}. What's the best way to bring our projects over?",
            "The CSV import stops with '{error}' at row {count}.",
            "I imported a CSV with {count} rows but only about half of them show up.",
        ),
        (
            "Could you send us the CSV (or the first few rows) so we can see the format?",
        ),
        (
            "Attached the first 50 rows, with client names removed.",
        ),
        (
            "The file uses semicolons as separators; choosing 'Semicolon' in the import dialog reads it "
            "correctly.",
            "Rows with an empty 'Due date' were skipped. I've re-run the import with 'Allow empty dates' and "
            "all {count} rows are in.",
            "Our {competitor} importer brings over projects, tasks, comments and attachments. You'll find it under "
            "Settings > Import.",
        ),
    ),
    Topic(
        "how_to", "general", 8, (10, 0, 0, 1), ("how-to",),
        (
            "How do I set up recurring tasks?", "Can I share a board with a client?",
            "How to assign a task to two people",
            "Question about templates", "How do I archive a project?", "Where did the {feature} option go?",
            "Can guests see private comments?", "How do dependencies work?",
        ),
        (
            "Is there a way to make a task repeat every Monday?",
            "We'd like to share a read-only board with a client who doesn't have an account. Is that possible?",
            "I can't find the {feature} option since the redesign. Has it been removed?",
            "How can I turn a project into a template for future projects?",
            "Can guests in our workspace see comments marked private?",
        ),
        (
            "Which plan is your workspace on? Some sharing options depend on it.",
        ),
        (
            "We're on {plan}.",
            "I think we're on the {plan} plan, but I'm not the admin.",
        ),
        (
            "Open the task, click the date and choose 'Repeat'. You can pick weekly on Monday, and the next task "
            "is created when the current one is completed.",
            "Use 'Share > Public link' on the board; anyone with the link can view it without an account, and you "
            "can revoke the link at any time.",
            "The {feature} option moved to the '...' menu at the top right of the project. Our help centre has a "
            "short guide with screenshots.",
            "Open the project menu and choose 'Save as template'. New projects can then start from it.",
            "No: private comments are only visible to full members of the workspace, never to guests.",
        ),
    ),
    Topic(
        "feature_request", "general", 4, (8, 0, 0, 2), ("feature-request",),
        (
            "Feature request: {feature}", "Please add {feature}", "Suggestion for {product}",
            "Any plans for {feature}?", "Would love {feature}",
        ),
        (
            "It would help our team a lot if {product} had {feature}. Is it on your roadmap?",
            "We're evaluating {product} for {company}. The only thing missing for us is {feature}.",
            "Small suggestion: {feature} would save me a lot of clicks every day.",
        ),
        (
            "Could you tell me a bit more about how you'd use it? It helps our product team prioritise.",
        ),
        (
            "We'd use it every week for client reporting, about {seats} people would benefit.",
        ),
        (
            "Thanks for the suggestion! I've added your vote to the {feature} request our product team is "
            "tracking. We'll let you know when there's news.",
            "Good news: {feature} is in beta. I've enabled it for your workspace; feedback is very welcome.",
        ),
    ),
    Topic(
        "seats", "general", 2.5, (4, 0, 0, 6), ("seats", "users"),
        (
            "Add users to our workspace", "Remove a user who left", "Invite link not working",
            "Guest vs member - which one?",
        ),
        (
            "I invited {count} colleagues but the invitation emails never arrived.",
            "One of our team members has left {company}. How do we remove them without losing their tasks?",
            "What's the difference between a guest and a member? We have external contractors.",
        ),
        (
            "Could you send me the email addresses you invited, so I can check the invitations?",
        ),
        (
            "They're all at our company domain, I've listed them in the attachment.",
        ),
        (
            "The invitations were sent to a misspelled domain. I've corrected them and re-sent the invites.",
            "Removing a member keeps all their tasks and comments; the tasks become unassigned and you can "
            "reassign them in bulk.",
            "Guests are free and can only see projects they're invited to; members count as seats and see the "
            "whole workspace.",
        ),
    ),
    Topic(
        "onboarding", "general", 2, (7, 0, 0, 3), ("onboarding", "training"),
        (
            "Onboarding session for our team", "Best practices for setting up {product}",
            "Training for new admins", "Getting started questions",
        ),
        (
            "We've just signed up on the {plan} plan and would love a short onboarding call for the team.",
            "I'm the new admin at {company}. Is there training material for admins?",
            "We're {seats} people starting with {product} next week. Any advice on how to set up projects?",
        ),
        (
            "What time zone is your team in, and which days work best for a 30-minute call?",
        ),
        (
            "We're in {city}; Tuesday or Thursday mornings work best.",
        ),
        (
            "I've booked an onboarding session for Thursday at 10:00 your time; the invitation is in your inbox. "
            "In the meantime our admin guide covers the basics.",
            "Our help centre has a 'First week with {product}' guide and a 20-minute admin video course; I'd start "
            "with one shared project per team and a template for recurring work.",
        ),
    ),
)  # fmt: skip

# --- what fills the slots -----------------------------------------------------------------------------

SLOT_VALUES: dict[str, tuple[str, ...]] = {
    "plan": ("Starter", "Team", "Business", "Enterprise"),
    "new_plan": ("Team", "Business", "Enterprise", "Starter"),
    "browser": ("Chrome", "Firefox", "Safari", "Edge", "Brave"),
    "os": ("Windows 11", "macOS 14", "iOS 17", "Android 14", "Ubuntu 22.04", "iPadOS 17"),
    "device": ("iPhone 15", "iPhone 13", "Pixel 8", "Galaxy S23", "iPad Air", "OnePlus 11", "Galaxy Tab S9"),
    "integration": (
        "Slack", "Google Calendar", "Microsoft Teams", "Zapier", "Salesforce", "HubSpot", "Jira", "GitHub",
        "Outlook", "Dropbox",
    ),
    "idp": ("Okta", "Azure AD", "Google Workspace", "OneLogin", "JumpCloud"),
    "feature": (
        "a Gantt view", "time tracking", "custom fields on subtasks", "dark mode", "an offline mode",
        "recurring subtasks", "a workload view", "two-way Outlook sync", "custom report templates",
        "bulk editing of due dates", "guest comments", "a client portal", "task dependencies across projects",
    ),
    "error": (
        "E-4012", "ERR_SYNC_TIMEOUT", "HTTP 502", "E-1107", "ERR_TOKEN_EXPIRED", "E-2301", "HTTP 500",
        "ERR_QUOTA_EXCEEDED",
    ),
    "amount": ("$49.00", "$96.00", "$120.00", "$588.00", "$1,440.00", "€79.00", "€240.00", "£65.00", "$24.00"),
    "month": (
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ),
    "day": ("1st", "3rd", "5th", "9th", "12th", "15th", "18th", "21st", "24th", "28th"),
    "time": ("8:40", "9:15", "10:05", "11:30", "13:20", "14:45", "16:10", "17:55", "21:30"),
    "city": ("Berlin", "Toronto", "Austin", "Lisbon", "Singapore", "Melbourne", "Dublin", "Nairobi", "Lyon"),
    "project": (
        "Q3 Launch", "Website Redesign", "Client Onboarding", "Office Move", "Hiring Plan", "Spring Campaign",
        "Product Roadmap", "Audit 2024", "Mobile App v2", "Warehouse Rollout",
    ),
    "competitor": ("Trello", "Asana", "Monday.com", "Basecamp", "a spreadsheet", "ClickUp", "Wrike"),
    "version": ("5.12.3", "5.13.0", "5.13.1", "5.14.2", "6.0.1"),
    "year": ("2019", "2020", "2021", "2022", "2023"),
}  # fmt: skip

# --- the pieces around every message ------------------------------------------------------------------

CUSTOMER_GREETINGS = ("Hi,", "Hello,", "Hi there,", "Hello support team,", "Hi team,", "Good morning,", "")
CUSTOMER_CONTEXT = (
    "",
    "",
    "This is blocking part of our team.",
    "It worked fine until last week.",
    "I've tried another browser with the same result.",
    "Could you help?",
    "Thanks in advance for looking into it.",
    "We're on the {plan} plan, if that matters.",
)
CUSTOMER_SIGNOFFS = ("Thanks,\n{first}", "Best regards,\n{full}", "Cheers,\n{first}", "Thank you!\n{first}", "{first}")

AGENT_GREETINGS = ("Hi {first},", "Hello {first},", "Hi {first}, thanks for reaching out.", "Dear {first},")
AGENT_SIGNOFFS = (
    "Best regards,\n{agent}\n" + PRODUCT + " Support",
    "Kind regards,\n{agent}",
    "Have a great day,\n{agent}\n" + PRODUCT + " Support",
    "Thanks,\n{agent}",
)

# The agent takes the ticket on and asks for patience (stays open).
AGENT_WORKING = (
    "Thanks for the details. I'm looking into this with our team and will get back to you shortly.",
    "I've reproduced the problem and I'm checking it with a colleague. I'll update you as soon as I know more.",
    "Thanks for your patience. I'm still investigating and will update you today.",
)
# The agent hands over to a third party or engineering (on hold).
AGENT_ON_HOLD = (
    "I've passed this on to our engineering team with all the details. I'll update you as soon as they have "
    "looked at it.",
    "This needs a check by our payments provider. I've opened a request with them and will let you know what "
    "they find.",
    "Our developers are looking into this. I'm putting the ticket on hold until they report back, and I'll "
    "write to you then.",
)
# The agent nudges a customer who has not answered (still pending).
AGENT_NUDGE = (
    "Just checking in: were you able to try the steps above?",
    "I wanted to follow up on my last message. Let me know if you still need help with this.",
)
# The agent solves a ticket the customer never came back to.
AGENT_NO_REPLY_SOLVE = (
    "As I haven't heard back, I'll mark this as solved for now. Just reply to this email if you still need "
    "help and the ticket will reopen.",
    "I'm closing this for now since we haven't heard from you. Reply any time and we'll pick it up again.",
)
# A customer answers a solved ticket: it reopens (DOMAIN.md).
CUSTOMER_THANKS = (
    "That worked, thank you so much!",
    "Perfect, thanks for the quick help.",
    "Great, all sorted now. Thanks!",
    "Thank you, that did the trick.",
)
CUSTOMER_STILL_BROKEN = (
    "Unfortunately it's happening again since this morning.",
    "I tried that but it still doesn't work for me.",
    "It worked for a day, but now the same problem is back.",
    "Sorry, one more question about this: does the same apply to the rest of my team?",
)
CUSTOMER_PING = (
    "Any update on this?",
    "Hi, is there any news? We're still waiting on this.",
    "Just following up, this is still a problem for us.",
)
# Internal notes: how agents talk to each other on a ticket.
INTERNAL_NOTES = (
    "Checked the logs: the errors started on the {day}. Looks related to the last release.",
    "Customer is on {plan}, account in good standing. Prioritising.",
    "@{agent2} have you seen this before? Similar to the ticket from last week.",
    "Reproduced on staging with {browser}. Filed a bug for engineering.",
    "Key account: please keep the customer updated at least daily.",
    "Called the customer, they confirmed the details by phone.",
    "Billing history checked, nothing unusual apart from the charge mentioned.",
    "Escalating: this needs someone with database access.",
)
# A phone call an agent logs as a ticket.
PHONE_INTRO = ("Customer called: ", "Phone call with {first}: ", "Call from {full}: ")
