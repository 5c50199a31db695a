-- 0006: derived.indicators and derived.signals, hypertables computed from candles (seed 1).
--
-- indicators is written like candles (a row per asset, timeframe, indicator and bar), so it is
-- keyed and guarded like candles: natural primary key for upserts, no surrogate id, no foreign
-- key to assets (a trigger refuses deleting an asset that still has indicators).
-- signals are few (a row per strategy decision): they keep real foreign keys.

CREATE TABLE derived.indicators (
    ts timestamptz NOT NULL,
    asset_id uuid NOT NULL,
    timeframe market_data.timeframe NOT NULL,
    indicator_type derived.indicator_type NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    value double precision NOT NULL,
    value2 double precision,
    value3 double precision,
    name text NOT NULL,
    parameters jsonb,
    CONSTRAINT indicators_pkey PRIMARY KEY (asset_id, timeframe, name, ts),
    CONSTRAINT indicators_name_check CHECK (name <> '')
);
COMMENT ON TABLE derived.indicators IS 'Technical indicator values per asset, timeframe and bar (seed 1).';
COMMENT ON COLUMN derived.indicators.ts IS 'Start of the bar the value belongs to, UTC (as market_data.candles.ts).';
COMMENT ON COLUMN derived.indicators.name IS 'One parameterised series, e.g. sma_20; the type says which formula (sma).';
COMMENT ON COLUMN derived.indicators.value2 IS 'Second output where the indicator has one (MACD signal, Bollinger upper band...).';
COMMENT ON COLUMN derived.indicators.value3 IS 'Third output where the indicator has one (MACD histogram, Bollinger lower band...).';

-- Same chunk interval as candles: written at the same pace (several rows per candle) and read
-- together with them, so the same time range lands in the same number of chunks.
SELECT create_hypertable(
    'derived.indicators',
    by_range('ts', INTERVAL '7 days'),
    create_default_indexes => false
);

CREATE FUNCTION derived.refuse_delete_with_indicators() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM derived.indicators WHERE asset_id = OLD.id) THEN
        RAISE EXCEPTION 'asset % (%) still has indicators in derived.indicators', OLD.id, OLD.symbol
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$;
COMMENT ON FUNCTION derived.refuse_delete_with_indicators() IS 'Keeps indicators from losing their asset, in place of a foreign key that would cost every ingested row.';

CREATE TRIGGER assets_refuse_delete_with_indicators
    BEFORE DELETE OR UPDATE OF id ON market_data.assets
    FOR EACH ROW EXECUTE FUNCTION derived.refuse_delete_with_indicators();

CREATE TABLE derived.signals (
    ts timestamptz NOT NULL,
    asset_id uuid NOT NULL,
    timeframe market_data.timeframe NOT NULL,
    strategy_id uuid NOT NULL,
    signal_type derived.signal_type NOT NULL,
    is_active boolean NOT NULL DEFAULT true,
    generated_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    strength double precision,
    confidence double precision,
    price numeric(20, 8),
    target_price numeric(20, 8),
    stop_loss numeric(20, 8),
    rationale text,
    indicators_used jsonb,
    CONSTRAINT signals_pkey PRIMARY KEY (asset_id, timeframe, strategy_id, ts),
    CONSTRAINT signals_asset_id_fkey FOREIGN KEY (asset_id) REFERENCES market_data.assets (id),
    CONSTRAINT signals_strategy_id_fkey FOREIGN KEY (strategy_id)
        REFERENCES strategies.strategies (id),
    CONSTRAINT signals_confidence_check CHECK (confidence BETWEEN 0 AND 1),
    CONSTRAINT signals_price_check CHECK (price > 0),
    CONSTRAINT signals_target_price_check CHECK (target_price > 0),
    CONSTRAINT signals_stop_loss_check CHECK (stop_loss > 0),
    CONSTRAINT signals_expires_at_check CHECK (expires_at > ts)
);
COMMENT ON TABLE derived.signals IS 'Trading signals per asset, timeframe, strategy and bar (seed 1).';
COMMENT ON COLUMN derived.signals.strategy_id IS 'The strategy that emitted the signal (seed 1''s strategy name, resolved to strategies.strategies).';
COMMENT ON COLUMN derived.signals.confidence IS 'Probability-like score between 0 and 1.';

-- Signals are sparse (one per strategy decision, not per bar): 30-day chunks keep each chunk
-- well filled and the number of chunks a dashboard query plans over small.
SELECT create_hypertable(
    'derived.signals',
    by_range('ts', INTERVAL '30 days'),
    create_default_indexes => false
);

-- The dashboard's "active signals, newest first" (seed 1's queries); partial, so only the
-- active minority is indexed. Seed 1's (asset_id, ts) and (asset_id, signal_type, ts) indexes
-- are left out: the primary key leads with asset_id and serves both.
CREATE INDEX signals_active_ts_idx ON derived.signals (ts DESC) WHERE is_active;
