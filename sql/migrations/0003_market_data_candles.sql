-- 0003: market_data.candles, the OHLCV hypertable (seed 1 candles = seed 2 market_data.ohlcv).
--
-- Keyed for ingest: the natural key (asset_id, timeframe, ts) is the primary key, so a loader
-- re-ingests a range with INSERT ... ON CONFLICT (asset_id, timeframe, ts) DO UPDATE (or DO
-- NOTHING) and never duplicates a bar. No surrogate id (seed 1's bigserial, seed 2's uuid): it
-- would cost a sequence call or a random UUID, 8-16 bytes and a second unique index per row, and
-- nothing points at a single candle. The key also serves the seeds' reads: one asset's bars of
-- one timeframe over a time range, newest first.
--
-- Every seed check holds, through the four constraints below. There is no foreign key to
-- market_data.assets: measured, it costs a lookup and a queued trigger event per row, and
-- nearly halves COPY throughput (sql/README.md). Loaders resolve (symbol, exchange) to an
-- asset id before they write, and the trigger below keeps an asset that has candles from being
-- deleted, which is the other half of what the key would enforce.
--
-- Columns are ordered fixed-width first so that no row carries alignment padding. Text, not
-- varchar(n), on hypertables, as TimescaleDB advises (it warns on varchar columns).

CREATE TABLE market_data.candles (
    ts timestamptz NOT NULL,
    asset_id uuid NOT NULL,
    timeframe market_data.timeframe NOT NULL,
    trades_count integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    open numeric(20, 8) NOT NULL,
    high numeric(20, 8) NOT NULL,
    low numeric(20, 8) NOT NULL,
    close numeric(20, 8) NOT NULL,
    volume numeric(28, 8) NOT NULL,
    vwap numeric(20, 8),
    source text NOT NULL,
    CONSTRAINT candles_pkey PRIMARY KEY (asset_id, timeframe, ts),
    -- The seeds' nine conditions (open, high, low, close > 0; volume >= 0; high >= low;
    -- high >= open and close; low <= open and close) as the four constraints that imply them
    -- all: low > 0 with low <= open and low <= close gives open > 0 and close > 0; high >= open
    -- >= low gives high >= low and high > 0. numeric's order is total (NaN sorts last), so the
    -- implication holds for every value. Each check is paid on every ingested row: the four
    -- cost about half of the nine (sql/README.md), and nothing beyond the seeds is checked.
    CONSTRAINT candles_low_check CHECK (low > 0),
    CONSTRAINT candles_volume_check CHECK (volume >= 0),
    CONSTRAINT candles_high_prices_check CHECK (high >= open AND high >= close),
    CONSTRAINT candles_low_prices_check CHECK (low <= open AND low <= close)
);
COMMENT ON TABLE market_data.candles IS 'OHLCV bars, one per asset, timeframe and start time (seed 1 candles, seed 2 market_data.ohlcv).';
COMMENT ON COLUMN market_data.candles.ts IS 'Start of the bar, UTC.';
COMMENT ON COLUMN market_data.candles.volume IS 'Traded quantity; fractional for crypto, hence numeric rather than seed 2''s bigint.';
COMMENT ON COLUMN market_data.candles.source IS 'Where the bar came from (seed 2), e.g. a vendor or exchange name.';
COMMENT ON COLUMN market_data.candles.updated_at IS 'Set by the loader''s ON CONFLICT DO UPDATE; no trigger, to keep ingest cheap.';

-- Seven-day chunks, as both seeds chose; the hooks may set another interval from the
-- environment spec.
SELECT create_hypertable(
    'market_data.candles',
    by_range('ts', INTERVAL '7 days'),
    create_default_indexes => false
);

-- The one secondary index: time-range scans across all assets ("every bar of the last hour"),
-- which the primary key, led by asset_id, cannot serve. Rows arrive in time order, so a BRIN
-- index over ts is exact enough, a few pages per chunk, and almost free at ingest, where seed 1's
-- B-tree (ts, asset_id) and seed 2's (timestamp DESC) each cost a B-tree insert per row.
CREATE INDEX candles_ts_brin ON market_data.candles USING brin (ts);

CREATE FUNCTION market_data.refuse_delete_with_candles() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM market_data.candles WHERE asset_id = OLD.id) THEN
        RAISE EXCEPTION 'asset % (%) still has candles in market_data.candles', OLD.id, OLD.symbol
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$;
COMMENT ON FUNCTION market_data.refuse_delete_with_candles() IS 'Keeps candles from losing their asset, in place of a foreign key that would cost every ingested row.';

CREATE TRIGGER assets_refuse_delete_with_candles
    BEFORE DELETE OR UPDATE OF id ON market_data.assets
    FOR EACH ROW EXECUTE FUNCTION market_data.refuse_delete_with_candles();
