/** The search query language: parse, resolve dates and sizes, print canonically. */
export { parseQuery, type ParseOptions } from './parser.js';
export { parseDay } from './dates.js';
export { parseSize } from './sizes.js';
export { formatQuery } from './format.js';
export { queryFromListFilters, type ListFilters } from './list-filters.js';
