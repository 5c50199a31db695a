-- 0004: accounts.users, watchlists and watchlist_items (seed 1; seed 3's "users, future
-- implementation" is the same table).
--
-- Small, read-mostly, written by people: every relationship is a foreign key, and every key
-- that another table's delete must check has an index.

CREATE TABLE accounts.users (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    username varchar(50) NOT NULL,
    email varchar(255) NOT NULL,
    password_hash text NOT NULL,
    is_active boolean NOT NULL DEFAULT true,
    is_admin boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_login timestamptz,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_username_check CHECK (username <> ''),
    CONSTRAINT users_email_check CHECK (email LIKE '_%@_%')
);
COMMENT ON TABLE accounts.users IS 'User accounts (seed 1 users; seed 3 users).';
COMMENT ON COLUMN accounts.users.password_hash IS 'A password hash (e.g. argon2 or bcrypt); never the password.';

-- Log-in by e-mail address, which is case-insensitive in practice; also makes addresses unique.
CREATE UNIQUE INDEX users_email_lower_key ON accounts.users (lower(email));

CREATE TRIGGER users_set_updated_at
    BEFORE UPDATE ON accounts.users
    FOR EACH ROW EXECUTE FUNCTION accounts.set_updated_at();

CREATE TABLE accounts.watchlists (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL,
    name varchar(100) NOT NULL,
    description text,
    color varchar(7),
    icon varchar(50),
    is_default boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT watchlists_pkey PRIMARY KEY (id),
    CONSTRAINT watchlists_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES accounts.users (id) ON DELETE CASCADE,
    -- A user's lists by name; also the index the user_id foreign key needs.
    CONSTRAINT watchlists_user_id_name_key UNIQUE (user_id, name),
    CONSTRAINT watchlists_color_check CHECK (color ~ '^#[0-9A-Fa-f]{6}$')
);
COMMENT ON TABLE accounts.watchlists IS 'A user''s curated asset collections (seed 1).';

-- At most one default watchlist per user.
CREATE UNIQUE INDEX watchlists_one_default_per_user ON accounts.watchlists (user_id)
    WHERE is_default;

CREATE TRIGGER watchlists_set_updated_at
    BEFORE UPDATE ON accounts.watchlists
    FOR EACH ROW EXECUTE FUNCTION accounts.set_updated_at();

CREATE TABLE accounts.watchlist_items (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    watchlist_id uuid NOT NULL,
    asset_id uuid NOT NULL,
    position integer NOT NULL DEFAULT 0,
    notes text,
    price_alert_high numeric(20, 8),
    price_alert_low numeric(20, 8),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT watchlist_items_pkey PRIMARY KEY (id),
    CONSTRAINT watchlist_items_watchlist_id_fkey FOREIGN KEY (watchlist_id)
        REFERENCES accounts.watchlists (id) ON DELETE CASCADE,
    CONSTRAINT watchlist_items_asset_id_fkey FOREIGN KEY (asset_id)
        REFERENCES market_data.assets (id),
    -- Seed 1's constraint; also the index the watchlist_id foreign key needs.
    CONSTRAINT watchlist_items_watchlist_id_asset_id_key UNIQUE (watchlist_id, asset_id),
    CONSTRAINT watchlist_items_position_check CHECK (position >= 0),
    CONSTRAINT watchlist_items_price_alert_high_check CHECK (price_alert_high > 0),
    CONSTRAINT watchlist_items_price_alert_low_check CHECK (price_alert_low > 0),
    CONSTRAINT watchlist_items_price_alerts_check CHECK (price_alert_low <= price_alert_high)
);
COMMENT ON TABLE accounts.watchlist_items IS 'Assets in a watchlist, in display order, with price alerts (seed 1).';

-- Deleting an asset checks that no watchlist holds it; without this, a scan of every item.
CREATE INDEX watchlist_items_asset_id_idx ON accounts.watchlist_items (asset_id);

CREATE TRIGGER watchlist_items_set_updated_at
    BEFORE UPDATE ON accounts.watchlist_items
    FOR EACH ROW EXECUTE FUNCTION accounts.set_updated_at();
