import type { TextMapPropagator } from "@opentelemetry/api";
export declare const PROPAGATOR_NAMES: readonly string[];
export declare function parseNames(value: string | undefined): string[];
export declare function unknownNames(names: string[]): string[];
export declare function propagatorFor(names: string[]): TextMapPropagator | null;
