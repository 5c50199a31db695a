-- 0009: market_data.candles keyed by a compact integer asset key instead of the asset's uuid.
--
-- Why: ingest (issue 12). The primary key (asset_id uuid, timeframe, ts) holds 28 bytes of key
-- per row; PostgreSQL splits such leaves in the middle, so a time-ordered load of many assets
-- leaves every left half empty for good and the key grows to twice its payload (509 MB for 6M
-- rows). PostgreSQL fills the left page instead only for keys of at most 16 bytes
-- (_bt_afternewitemoff in src/backend/access/nbtree/nbtsplitloc.c): asset_key integer (4) +
-- timeframe (4) + ts (8) is exactly that, and the key shrinks to about a third. Measured in
-- sql/README.md ("Bulk ingest: measured").
--
-- Assets keep their public uuid (every other table, and every API, names an asset by it); the
-- integer is only how candles point at one. Loaders resolve (symbol, exchange), or the uuid, to
-- assets.key once per batch, as they resolved the uuid before.
--
-- The table is rebuilt rather than altered, so that the new column sits with the fixed-width
-- ones (no alignment padding) and no dropped column is left in every row; on a database
-- holding candles this copies them all once, in one transaction. The daily rollup reads
-- asset_id, so it is dropped first (it exists only on the Community edition) and the hooks
-- create it again from sql/continuous_aggregates, with its history; they also set the chunk
-- interval, compression and retention of the new table again from the environment spec.

ALTER TABLE market_data.assets ADD COLUMN key integer GENERATED ALWAYS AS IDENTITY;
ALTER TABLE market_data.assets ADD CONSTRAINT assets_key_key UNIQUE (key);
COMMENT ON COLUMN market_data.assets.key IS 'Compact key that market_data.candles holds (asset_key); the uuid id stays the public one.';

DROP MATERIALIZED VIEW IF EXISTS market_data.candles_daily;

ALTER TABLE market_data.candles RENAME TO candles_uuid_keyed;
ALTER INDEX market_data.candles_pkey RENAME TO candles_uuid_keyed_pkey;
ALTER INDEX market_data.candles_ts_brin RENAME TO candles_uuid_keyed_ts_brin;

CREATE TABLE market_data.candles (
    ts timestamptz NOT NULL,
    asset_key integer NOT NULL,
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
    CONSTRAINT candles_pkey PRIMARY KEY (asset_key, timeframe, ts),
    -- The seeds' nine conditions as the four that imply them all (0003).
    CONSTRAINT candles_low_check CHECK (low > 0),
    CONSTRAINT candles_volume_check CHECK (volume >= 0),
    CONSTRAINT candles_high_prices_check CHECK (high >= open AND high >= close),
    CONSTRAINT candles_low_prices_check CHECK (low <= open AND low <= close)
);
COMMENT ON TABLE market_data.candles IS 'OHLCV bars, one per asset, timeframe and start time (seed 1 candles, seed 2 market_data.ohlcv).';
COMMENT ON COLUMN market_data.candles.ts IS 'Start of the bar, UTC.';
COMMENT ON COLUMN market_data.candles.asset_key IS 'market_data.assets.key of the bar''s asset (no foreign key: a delete guard instead).';
COMMENT ON COLUMN market_data.candles.volume IS 'Traded quantity; fractional for crypto, hence numeric rather than seed 2''s bigint.';
COMMENT ON COLUMN market_data.candles.source IS 'Where the bar came from (seed 2), e.g. a vendor or exchange name.';
COMMENT ON COLUMN market_data.candles.updated_at IS 'Set by the loader''s ON CONFLICT DO UPDATE; no trigger, to keep ingest cheap.';

SELECT create_hypertable(
    'market_data.candles',
    by_range('ts', INTERVAL '7 days'),
    create_default_indexes => false
);

CREATE INDEX candles_ts_brin ON market_data.candles USING brin (ts);

-- A candle whose asset_id names no asset (there was no foreign key) has no key to move to:
-- stop, rather than drop it silently.
DO $$
DECLARE
    orphans bigint;
BEGIN
    SELECT count(*) INTO orphans
    FROM market_data.candles_uuid_keyed AS c
    WHERE NOT EXISTS (SELECT 1 FROM market_data.assets AS a WHERE a.id = c.asset_id);
    IF orphans > 0 THEN
        RAISE EXCEPTION '% candles name an asset_id that market_data.assets does not hold', orphans
            USING ERRCODE = 'foreign_key_violation';
    END IF;
END;
$$;

INSERT INTO market_data.candles (
    ts, asset_key, timeframe, trades_count, created_at, updated_at,
    open, high, low, close, volume, vwap, source
)
SELECT c.ts, a.key, c.timeframe, c.trades_count, c.created_at, c.updated_at,
    c.open, c.high, c.low, c.close, c.volume, c.vwap, c.source
FROM market_data.candles_uuid_keyed AS c
JOIN market_data.assets AS a ON a.id = c.asset_id
ORDER BY c.ts, a.key, c.timeframe;

DROP TABLE market_data.candles_uuid_keyed;

-- The delete guard now follows the key: an asset's id may change, its key may not while it has
-- candles (key is an identity column; UPDATE ... SET key = DEFAULT would renumber it).
DROP TRIGGER assets_refuse_delete_with_candles ON market_data.assets;

CREATE OR REPLACE FUNCTION market_data.refuse_delete_with_candles() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.key = OLD.key THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM market_data.candles WHERE asset_key = OLD.key) THEN
        RAISE EXCEPTION 'asset % (%) still has candles in market_data.candles', OLD.id, OLD.symbol
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$;

CREATE TRIGGER assets_refuse_delete_with_candles
    BEFORE DELETE OR UPDATE OF key ON market_data.assets
    FOR EACH ROW EXECUTE FUNCTION market_data.refuse_delete_with_candles();
