"""The password policy, applied wherever a password is set (new users, resets, ``lowcode init``, demo users).

Sign-in never applies it: a user whose password predates the policy can still sign in."""

from __future__ import annotations

MIN_LENGTH = 10

# Written for this project: the most obvious choices (keyboard runs, counting, "password" and friends).
# Compared lower-cased, so "Password1" is caught by "password1".
COMMON_PASSWORDS = frozenset(
    [
        "password",
        "password1",
        "password12",
        "password123",
        "password1234",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "pass1234",
        "pass12345",
        "password!",
        "password01",
        "mypassword",
        "newpassword",
        "changeme",
        "changeme1",
        "changeme123",
        "letmein",
        "letmein1",
        "letmein123",
        "welcome",
        "welcome1",
        "welcome12",
        "welcome123",
        "welcome1234",
        "administrator",
        "admin12345",
        "admin123456",
        "adminadmin",
        "administrator1",
        "rootroot",
        "root123456",
        "superuser",
        "qwerty",
        "qwerty1",
        "qwerty12",
        "qwerty123",
        "qwerty1234",
        "qwerty12345",
        "qwertyuiop",
        "qwertyuiop1",
        "qwertyui",
        "asdfghjkl",
        "asdfghjkl1",
        "asdfasdfasdf",
        "zxcvbnm",
        "zxcvbnm123",
        "zxcvbnmasdf",
        "1qaz2wsx",
        "1qaz2wsx3edc",
        "qazwsx",
        "qazwsxedc",
        "qazwsxedc123",
        "1q2w3e4r",
        "1q2w3e4r5t",
        "1q2w3e4r5t6y",
        "q1w2e3r4t5",
        "q1w2e3r4t5y6",
        "12345678",
        "123456789",
        "1234567890",
        "0123456789",
        "12345678910",
        "0987654321",
        "9876543210",
        "987654321",
        "123123123",
        "1231231234",
        "123451234",
        "1234512345",
        "12344321",
        "1234554321",
        "11223344",
        "1122334455",
        "111222333",
        "147258369",
        "123qweasd",
        "123qweasdzxc",
        "abc123456",
        "abcd1234",
        "abcdefgh",
        "abcdefghij",
        "abcdefg123",
        "abc1234567",
        "a1b2c3d4",
        "a1b2c3d4e5",
        "iloveyou",
        "iloveyou1",
        "iloveyou123",
        "sunshine1",
        "princess1",
        "football1",
        "baseball1",
        "monkey123",
        "dragon123",
        "master123",
        "shadow123",
        "trustno1",
        "starwars1",
        "whatever1",
        "computer1",
        "internet1",
        "secret123",
        "secret1234",
        "access123",
        "login1234",
        "loginlogin",
        "00000000",
        "11111111",
        "88888888",
        "66666666",
    ]
)


def password_problems(password: object, username: str = "") -> list[str]:
    """Why ``password`` is not acceptable for ``username`` (empty list: it is acceptable)."""
    if not isinstance(password, str) or not password:
        return ["A password is required."]
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"The password must have at least {MIN_LENGTH} characters.")
    if not password.strip():
        problems.append("The password cannot be only spaces.")
    elif len(set(password)) == 1:
        problems.append("The password cannot be one character repeated.")
    if password.lower() in COMMON_PASSWORDS:
        problems.append("The password is too common; choose one that is hard to guess.")
    if len(username) >= 3 and username.lower() in password.lower():
        problems.append("The password cannot contain the username.")
    return problems
