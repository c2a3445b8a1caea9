-- Failed web sign-ins per e-mail address, shared by every node so that
-- several processes behind one address cannot multiply the allowed guesses.
CREATE TABLE sign_in_failures (
    email TEXT PRIMARY KEY,
    count BIGINT NOT NULL,
    window_start BIGINT NOT NULL
);
