// Name pools per country for seeded contacts (accents included: emails are derived ASCII-only).
import type { PhoneCountry } from './phone-numbers.ts'

export const FIRST_NAMES: Record<PhoneCountry, readonly string[]> = {
  US: ['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'Chris', 'Ashley'],
  GB: ['Oliver', 'Amelia', 'Harry', 'Isla', 'George', 'Ava', 'Noah', 'Mia', 'Jack', 'Sophie', 'Callum', 'Niamh'],
  DE: ['Lukas', 'Anna', 'Jürgen', 'Sophie', 'Maximilian', 'Marie', 'Felix', 'Lea', 'Jonas', 'Hannah', 'Björn', 'Käthe'],
  BR: ['João', 'Ana', 'Gabriel', 'Maria', 'Lucas', 'Júlia', 'Pedro', 'Beatriz', 'Matheus', 'Larissa', 'Thiago', 'Letícia'],
  MX: ['José', 'Guadalupe', 'Luis', 'Fernanda', 'Carlos', 'Sofía', 'Juan', 'Valeria', 'Miguel', 'Ximena', 'Andrés', 'Renata'],
  AR: ['Santiago', 'Valentina', 'Mateo', 'Martina', 'Benjamín', 'Catalina', 'Tomás', 'Lucía', 'Joaquín', 'Camila', 'Facundo', 'Agustina'],
  IN: ['Aarav', 'Priya', 'Vivaan', 'Ananya', 'Aditya', 'Diya', 'Arjun', 'Saanvi', 'Rohan', 'Isha', 'Karthik', 'Lakshmi'],
}

export const LAST_NAMES: Record<PhoneCountry, readonly string[]> = {
  US: ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Anderson', 'Taylor', "O'Connor", 'Nguyen'],
  GB: ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Evans', 'Thomas', 'Roberts', 'Walker', 'Wright', 'Hughes'],
  DE: ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Köhler', 'Groß'],
  BR: ['Silva', 'Santos', 'Oliveira', 'Souza', 'Rodrigues', 'Ferreira', 'Alves', 'Pereira', 'Lima', 'Gomes', 'Araújo', 'Conceição'],
  MX: ['Hernández', 'García', 'Martínez', 'López', 'González', 'Pérez', 'Rodríguez', 'Sánchez', 'Ramírez', 'Cruz', 'Flores', 'Gómez'],
  AR: ['González', 'Rodríguez', 'Gómez', 'Fernández', 'López', 'Díaz', 'Martínez', 'Pérez', 'Romero', 'Sosa', 'Álvarez', 'Benítez'],
  IN: ['Sharma', 'Patel', 'Singh', 'Kumar', 'Gupta', 'Reddy', 'Iyer', 'Nair', 'Das', 'Mehta', 'Rao', 'Joshi'],
}

export const LANGUAGES: Record<PhoneCountry, string> = { US: 'en', GB: 'en-gb', DE: 'de', BR: 'pt-br', MX: 'es-mx', AR: 'es', IN: 'hi' }

export const CITIES: Record<PhoneCountry, readonly string[]> = {
  US: ['New York', 'San Francisco', 'Chicago', 'Boston', 'Miami', 'Seattle', 'Austin', 'Denver'],
  GB: ['London', 'Manchester', 'Birmingham', 'Leeds', 'Glasgow', 'Bristol'],
  DE: ['Berlin', 'München', 'Hamburg', 'Köln', 'Frankfurt am Main', 'Düsseldorf'],
  BR: ['São Paulo', 'Rio de Janeiro', 'Belo Horizonte', 'Curitiba', 'Porto Alegre', 'Brasília', 'Salvador', 'Recife', 'Fortaleza', 'Campinas'],
  MX: ['Ciudad de México', 'Guadalajara', 'Monterrey'],
  AR: ['Buenos Aires'],
  IN: ['Mumbai', 'Delhi', 'Bengaluru', 'Chennai', 'Hyderabad', 'Pune'],
}
