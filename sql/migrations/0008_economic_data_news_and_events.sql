-- 0008: economic_data.economic_data, news.news_articles, events.event_data (seed 2).
--
-- Seed 2's tables, kept as its loaders know them, minus what duplicated something else: its
-- UNIQUE constraints identical to the primary key, its (symbol, date DESC) index identical to
-- the primary key (a B-tree is read in either direction), and the unused uuid column of a table
-- whose key is natural. Each is written at most a few thousand rows a day, so they stay plain
-- tables (global unique keys, foreign keys) and their few indexes cost nothing measurable.

CREATE TABLE economic_data.economic_data (
    symbol varchar(50) NOT NULL,
    date timestamptz NOT NULL,
    value numeric(20, 8) NOT NULL,
    is_preliminary boolean NOT NULL DEFAULT false,
    revision_date timestamptz,
    source varchar(50) NOT NULL DEFAULT 'FRED',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT economic_data_pkey PRIMARY KEY (symbol, date),
    CONSTRAINT economic_data_symbol_check CHECK (symbol <> '')
);
COMMENT ON TABLE economic_data.economic_data IS 'Observations of macroeconomic series (seed 2), one per series and date; a revision updates the row.';
COMMENT ON COLUMN economic_data.economic_data.symbol IS 'The series id at its source, e.g. FRED''s GDPC1.';
COMMENT ON COLUMN economic_data.economic_data.date IS 'The period the observation is for, UTC.';

-- Every series' observations in a date range ("what was released this week").
CREATE INDEX economic_data_date_idx ON economic_data.economic_data (date);

CREATE TRIGGER economic_data_set_updated_at
    BEFORE UPDATE ON economic_data.economic_data
    FOR EACH ROW EXECUTE FUNCTION accounts.set_updated_at();

CREATE TABLE news.news_articles (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    title text NOT NULL,
    description text,
    content text,
    url text NOT NULL,
    source varchar(100),
    author varchar(200),
    published_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT news_articles_pkey PRIMARY KEY (id),
    -- Seed 2's natural key: an article fetched twice is stored once.
    CONSTRAINT news_articles_url_key UNIQUE (url)
);
COMMENT ON TABLE news.news_articles IS 'News articles (seed 2).';

-- The news feed: latest articles first.
CREATE INDEX news_articles_published_at_idx ON news.news_articles (published_at);
-- One source's feed. Seed 2 indexed source alone; with published_at the same index also
-- returns that feed in order.
CREATE INDEX news_articles_source_published_at_idx
    ON news.news_articles (source, published_at);

CREATE TABLE events.event_data (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    event_type varchar(50) NOT NULL,
    event_datetime timestamptz NOT NULL,
    event_name varchar(200) NOT NULL,
    description text,
    impact_level smallint,
    asset_id uuid,
    currency varchar(10),
    country varchar(10),
    actual numeric(20, 8),
    forecast numeric(20, 8),
    previous numeric(20, 8),
    source varchar(50) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT event_data_pkey PRIMARY KEY (id),
    CONSTRAINT event_data_asset_id_fkey FOREIGN KEY (asset_id) REFERENCES market_data.assets (id),
    -- The event itself: a calendar fetched twice (forecast first, actual later) updates one row.
    -- Led by event_datetime, so it is also the index of "events in this time range".
    CONSTRAINT event_data_natural_key
        UNIQUE NULLS NOT DISTINCT (event_datetime, event_type, event_name, country, asset_id),
    CONSTRAINT event_data_impact_level_check CHECK (impact_level BETWEEN 1 AND 4)
);
COMMENT ON TABLE events.event_data IS 'Economic calendar and corporate events (seed 2).';
COMMENT ON COLUMN events.event_data.asset_id IS 'The asset a corporate event is about (seed 2''s symbol); NULL for a macro event.';

-- One asset's events (earnings, splits) over time; also the index the foreign key needs.
CREATE INDEX event_data_asset_id_event_datetime_idx ON events.event_data (asset_id, event_datetime)
    WHERE asset_id IS NOT NULL;
-- Events of one kind over time (seed 2's idx_events_type, with the time added for order).
CREATE INDEX event_data_event_type_event_datetime_idx
    ON events.event_data (event_type, event_datetime);

CREATE TRIGGER event_data_set_updated_at
    BEFORE UPDATE ON events.event_data
    FOR EACH ROW EXECUTE FUNCTION accounts.set_updated_at();
