import type pg from 'pg';
import { EmulatedError } from './errors.ts';
import { isArrayType, type ResultOptions, toField, toJsonValue, typeInfo } from './values.ts';

/**
 * Result shapes of ExecuteStatement: `records` within the row and response limits, the JSON text
 * of `formatRecordsAs: JSON`, and `columnMetadata` built the way pgjdbc does it.
 */

const badRequest = (message: string) => new EmulatedError('BadRequestException', message);
const typeNames = new Map<number, string>();

async function typeName(client: pg.PoolClient, oid: number): Promise<string> {
  const known = typeInfo(oid).name;
  if (known !== 'unknown') return known;
  if (!typeNames.has(oid)) {
    const r = await client.query<{ typname: string }>(
      'select typname from pg_type where oid = $1',
      [oid],
    );
    typeNames.set(oid, r.rows[0]?.typname ?? 'unknown');
  }
  return typeNames.get(oid) ?? 'unknown';
}

/** Column metadata the way pgjdbc builds it: one catalog lookup for table names and nullability. */
export async function columnMetadata(client: pg.PoolClient, fields: pg.FieldDef[]) {
  const tabled = fields.filter((f) => f.tableID !== 0);
  const catalog = new Map<string, { relname: string; notnull: boolean }>();
  if (tabled.length > 0) {
    const r = await client.query<{
      attrelid: number;
      attnum: number;
      relname: string;
      attnotnull: boolean;
    }>(
      `select a.attrelid::int as attrelid, a.attnum::int as attnum, c.relname::text as relname, a.attnotnull
         from pg_attribute a join pg_class c on c.oid = a.attrelid
        where (a.attrelid, a.attnum) in (select * from unnest($1::oid[], $2::int2[]))`,
      [tabled.map((f) => f.tableID), tabled.map((f) => f.columnID)],
    );
    for (const row of r.rows) {
      catalog.set(`${row.attrelid}.${row.attnum}`, {
        relname: row.relname,
        notnull: row.attnotnull,
      });
    }
  }
  return Promise.all(
    fields.map(async (f) => {
      const info = typeInfo(f.dataTypeID);
      const column = catalog.get(`${f.tableID}.${f.columnID}`);
      let precision = info.precision ?? 0;
      let scale = info.scale ?? 0;
      if (f.dataTypeID === 1700 && f.dataTypeModifier >= 4) {
        precision = ((f.dataTypeModifier - 4) >> 16) & 0xffff;
        scale = (f.dataTypeModifier - 4) & 0xffff;
      } else if (f.dataTypeID === 1700) {
        precision = 0;
      } else if ((f.dataTypeID === 1043 || f.dataTypeID === 1042) && f.dataTypeModifier >= 4) {
        precision = f.dataTypeModifier - 4;
      } else if (f.dataTypeID === 1043) {
        precision = 2147483647;
      }
      return {
        name: f.name,
        label: f.name,
        type: info.jdbc,
        typeName: await typeName(client, f.dataTypeID),
        schemaName: '',
        tableName: column?.relname ?? '',
        isAutoIncrement: false,
        isSigned: ['int', 'float', 'numeric'].includes(info.kind),
        isCurrency: f.dataTypeID === 790,
        isCaseSensitive: info.kind === 'string' && !isArrayType(f.dataTypeID) && info.jdbc !== 91,
        nullable: column ? (column.notnull ? 0 : 1) : 2,
        precision,
        scale,
        arrayBaseColumnType: 0,
      };
    }),
  );
}

/** Reads `resultSetOptions` from a request body. */
export function resultOptions(body: Record<string, unknown>): ResultOptions {
  const o = (body.resultSetOptions ?? {}) as Record<string, unknown>;
  return {
    longAsString: o.longReturnType === 'STRING',
    decimalAsNumber: o.decimalReturnType === 'DOUBLE_OR_LONG',
  };
}

/**
 * A row's values as the database sent them (every value arrives as text) within the row limit,
 * whichever way the result is then encoded.
 */
function checkRowSize(row: readonly unknown[], maxRowBytes: number): void {
  let rowBytes = 0;
  for (const value of row) if (typeof value === 'string') rowBytes += Buffer.byteLength(value);
  if (rowBytes > maxRowBytes) {
    throw badRequest(`Database returned a row larger than the ${maxRowBytes} byte row size limit`);
  }
}

/** `records` within the row and response limits, or the error the service answers. */
export function encodeRecords(
  result: pg.QueryResult<unknown[]>,
  options: ResultOptions,
  limits: { maxRowBytes: number; maxResponseBytes: number },
) {
  const oids = result.fields.map((f) => f.dataTypeID);
  const records = result.rows.map((row) => {
    checkRowSize(row, limits.maxRowBytes);
    return row.map((value, i) => toField(oids[i] ?? 0, value as string | null, options));
  });
  if (Buffer.byteLength(JSON.stringify(records)) > limits.maxResponseBytes) {
    throw badRequest('Database returned more than the allowed response size limit');
  }
  return records;
}

/** `formattedRecords`: objects keyed by column label; duplicate labels are refused. */
export function formatJson(
  result: pg.QueryResult<unknown[]>,
  options: ResultOptions,
  maxFormattedBytes: number,
  maxRowBytes: number,
): string {
  for (const row of result.rows) checkRowSize(row, maxRowBytes);
  const labels = result.fields.map((f) => f.name);
  const duplicate = labels.find((l, i) => labels.indexOf(l) !== i);
  if (duplicate !== undefined) {
    throw badRequest(
      `The result contains duplicate column label "${duplicate}"; alias the columns`,
    );
  }
  const objects = result.rows.map((row) =>
    Object.fromEntries(
      row.map((value, i) => [
        labels[i],
        toJsonValue(result.fields[i]?.dataTypeID ?? 0, value as string | null, options),
      ]),
    ),
  );
  const text = JSON.stringify(objects);
  if (Buffer.byteLength(text) > maxFormattedBytes) {
    throw badRequest('Database returned more than the allowed response size limit');
  }
  return text;
}
