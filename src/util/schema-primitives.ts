/**
 * The zod building blocks every configuration fragment uses (config/ composes the file's schema;
 * each actuation mode in act/ owns its own fragment), written once.
 */
import { z } from 'zod';

export const nonEmpty = z.string().min(1);
export const positive = z.number().positive();
export const positiveInt = z.number().int().min(1);
export const nonNegative = z.number().nonnegative();
